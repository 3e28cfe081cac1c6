"""The Slack bot's wiring: which events and buttons go where.

Messages go to bot.conversation; buttons and the App Home are handled here. Every
button carries its workflow id (see slack_views.card), so a click works on any replica, after
any restart, and on an old card.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from temporalio.service import RPCError

from bot.conversation import ENGINE_DOWN, Conversations
from bot.temporal_link import TemporalLink
from bot.turn import Turn
from shipmate import deliveries, status_report
from shipmate.settings import Settings
from shipmate.temporal import TemporalUnavailable
from slack_views.card import read_button_value
from slack_views.home import home_view
from workflows import search
from workflows.models import DeliveryState, GateState

log = logging.getLogger(__name__)

__all__ = ["ENGINE_DOWN", "TemporalLink", "build_app"]


def slack_client(settings: Settings) -> AsyncWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url or AsyncWebClient.BASE_URL,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=5)],
    )


def build_app(settings: Settings, temporal: TemporalLink, **app_options) -> AsyncApp:
    app = AsyncApp(client=slack_client(settings), **app_options)
    conversations = Conversations(settings, temporal)
    cards = CardActions(settings, temporal)

    @app.middleware
    async def only_this_app(body, next):
        """A request for another app (a shared endpoint, a misrouted event) is acked and
        dropped, so it starts nothing here."""
        other = body.get("api_app_id")
        if settings.slack_app_id and other and other != settings.slack_app_id:
            log.warning("ignored %s meant for app %s", body.get("type", "a request"), other)
            return BoltResponse(status=200, body="")
        return await next()

    @app.event("app_mention")
    async def on_mention(event, client):
        await conversations.on_message(client, event)

    @app.event("message")
    async def on_message(event, client, context):
        if event.get("subtype") or event.get("bot_id"):
            return  # edits, joins, and bots (this one included)
        mentioned = f"<@{context.bot_user_id}>" in event.get("text", "")
        if event.get("channel_type") == "im" or (event.get("thread_ts") and not mentioned):
            await conversations.on_message(client, event)

    @app.command("/shipmate")
    async def on_command(ack, command, client, respond):
        await ack()  # at once: the answer comes in a thread under the request
        await conversations.on_command(client, command, respond)

    for action in ("approve", "reject", "cancel", "retry"):
        app.action(action)(cards.on_button)

    @app.event("app_home_opened")
    async def on_home(event, client):
        await cards.publish_home(client, event["user"])

    @app.error
    async def on_error(error, body):
        log.error("unhandled error for %s: %s", body.get("type") if body else "?", error)

    return app


class CardActions:
    """Approve, Reject, Cancel and Retry clicks, and the App Home that lists them."""

    def __init__(self, settings: Settings, temporal: TemporalLink):
        self.temporal = temporal
        self.ui = f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}"

    async def on_button(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()  # at once: the decision itself may take longer than Slack's 3 s
        action, user = body["actions"][0], body["user"]["id"]
        message = body.get("message") or {}
        turn = Turn(
            client,
            (body.get("channel") or {}).get("id"),
            message.get("thread_ts") or message.get("ts"),
            user,
        )
        try:
            delivery_id, env = read_button_value(action.get("value", ""))
        except ValueError:
            log.warning("ignoring a click with a foreign value: %s", action.get("action_id"))
            return
        try:
            temporal = await self.temporal.client()
            kind = action["action_id"]
            if kind in ("approve", "reject"):
                await deliveries.decide(
                    temporal,
                    delivery_id,
                    user,
                    env,
                    approve=kind == "approve",
                    reason="" if kind == "approve" else "rejected in Slack",
                )
            elif kind == "cancel":
                await deliveries.cancel(temporal, delivery_id, user, "cancelled in Slack")
            else:
                await deliveries.retry(temporal, delivery_id, user)
        except deliveries.DecisionRefused as exc:
            await turn.tell_privately(f":no_entry: {exc}")
        except (TemporalUnavailable, RPCError):
            await turn.tell_privately(
                ":warning: I can't reach the workflow engine right now. "
                "Nothing was decided; click again in a minute."
            )
        if body.get("view", {}).get("type") == "home":
            await self.publish_home(client, user)

    async def publish_home(self, client: AsyncWebClient, user: str) -> None:
        try:
            temporal = await self.temporal.client()
            mine = search.deliveries(requester=user)
            waiting = search.deliveries(state=DeliveryState.waiting_for_approval)
            recent = await status_report.deliveries_matching(temporal, mine, limit=15)
            candidates = await status_report.deliveries_matching(temporal, waiting)
            waiting_on_me = [
                s
                for s in candidates
                if s.requester != user
                and any(g.state == GateState.open and user in g.approvers for g in s.gates)
            ]
        except (TemporalUnavailable, RPCError):
            recent, waiting_on_me = [], []
        await client.views_publish(user_id=user, view=home_view(recent, waiting_on_me, self.ui))
