"""The bolt app, observed: a span around each Slack request, and a count of each ack.

Bolt runs its middleware one after another, never around the listener, so the span is
opened around the whole dispatch instead: the listener's work (started inside it, on
the event loop or in a lazy task) inherits it, and so does the workflow it starts.
Only ids become attributes: never what a person wrote, tokens or payloads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from shipmate import telemetry


class TracedApp(AsyncApp):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._acks = telemetry.meter().create_counter(
            "shipmate_slack_acks", "Slack requests the bot acknowledged, by kind"
        )

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        body = req.body if isinstance(req.body, dict) else {}
        with slack_event_span(body) as span:
            response = await super().async_dispatch(req)
            span.set_attribute("slack.ack_status", response.status)
        if response.status == 200:  # anything else makes Slack send it again
            self._acks.add(1, {"kind": slack_kind(body)[0]})
        return response


def slack_kind(body: dict) -> tuple[str, str]:
    """What a Slack request is, as a label of few values, and which action or view."""
    if body.get("type") == "event_callback":
        return (body.get("event") or {}).get("type", "event"), ""
    if body.get("command"):
        return "slash_command", body["command"]
    kind = body.get("type") or "unknown"
    if kind == "block_actions":
        return kind, ((body.get("actions") or [{}])[0]).get("action_id", "")
    if kind in ("view_submission", "view_closed"):
        return kind, (body.get("view") or {}).get("callback_id", "")
    return kind, ""


@contextmanager
def slack_event_span(body: dict) -> Iterator[trace.Span]:
    """`slack app_mention`, `slack block_actions approve`…: a no-op while tracing is off."""
    kind, detail = slack_kind(body)
    event = body.get("event") or {}
    ids = {
        "slack.team": body.get("team_id") or (body.get("team") or {}).get("id"),
        "slack.channel": event.get("channel")
        or body.get("channel_id")
        or (body.get("channel") or {}).get("id"),
        "slack.user": event.get("user")
        or body.get("user_id")
        or (body.get("user") or {}).get("id"),
        "slack.event_id": body.get("event_id"),
    }
    with telemetry.tracer().start_as_current_span(
        f"slack {kind} {detail}".strip(),
        kind=trace.SpanKind.SERVER,
        attributes={k: v for k, v in ids.items() if isinstance(v, str)},
        record_exception=False,  # an error's message could quote what a person wrote
    ) as span:
        yield span
