"""Reviewer mode in the conversation: "review orders-api", a link, pasted code or a file
becomes a ReviewWorkflow; its card's Apply button, or "apply the fixes" said to Shipmate
in its thread, hands the fixes to the service.

The bot only reads what to review and relays clicks: the workflow refuses a person who
may not ask (its rules come from the worker), the fetch refuses a host not allowed, and
the `apply` validator decides who may apply. A review started twice for one message
(Slack redelivers) is one review: its id is the message's.
"""

from __future__ import annotations

import logging
import re

from slack_sdk.web.async_client import AsyncWebClient
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from bot.temporal_link import TemporalLink
from bot.turn import Turn, clicked_where
from shipmate import status_report
from shipmate.delivery_client import service_state
from shipmate.settings import Settings
from shipmate.temporal import TemporalUnavailable
from slack_views.text import escape, escape_keeping_mentions
from understanding.modes import ANSWERS, Mode
from understanding.near_names import near
from understanding.review_request import ReviewAsk, read_review
from workflows import search
from workflows.access import Origin, PersonAction
from workflows.review_models import ReviewRequest, ReviewSource, ReviewStatus, SourceKind
from workflows.review_workflow import ReviewWorkflow

log = logging.getLogger(__name__)

# The whole message is the command ("apply the fixes", "ok, apply them please"): a
# question or a negation ("should we apply the fixes?", "don't apply the fixes yet") is not.
APPLY = re.compile(  # a review's fixes, or a load test's speed-ups
    r"^(?:(?:ok|okay|yes|yep|great|thanks|please|pls|go ahead and|let's|lets)[,!.\s]+)*"
    r"apply(?:\s+(?:(?:the|those|these|all|all of|your|its|them)\s+)*(?:fix|fixes|patch|"
    r"patches|them|it|speed-?ups?|indexes|indices|index|changes|suggestions|optimi[sz]ations?)?)?"
    r"(?:\s+(?:please|pls|now))?\s*[.!]*$",
    re.I,
)
SUFFIX = {"python": ".py", "py": ".py", "typescript": ".ts", "ts": ".ts", "js": ".js"}


def asks_to_apply(text: str) -> bool:
    said = " ".join(re.sub(r"<[@#!][^>]*>", " ", text).split())
    return bool(APPLY.match(said))


class Reviews:
    def __init__(self, settings: Settings, temporal: TemporalLink):
        self.settings = settings
        self.temporal = temporal

    async def start(
        self, turn: Turn, temporal: Client, text: str, files: list[dict], service: str | None
    ) -> None:
        """`service`: the thread's, when asked in a delivery's thread ("review it")."""
        ask = read_review(text)
        source = await self._source(turn, temporal, ask, files, service)
        if source is None:
            return
        request = ReviewRequest(
            source=source,
            requester=turn.user,
            request_text=text[:500],
            focus=ask.focus,
            slack_channel=turn.channel,
            slack_thread_ts=turn.thread_ts,
        )
        review_id = "review/" + (turn.key or f"{turn.channel}:{turn.thread_ts}").replace(":", "/")
        try:
            await temporal.start_workflow(
                ReviewWorkflow.run,
                request,
                id=review_id,
                task_queue=self.settings.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            log.info("%s was started already (a redelivered message)", review_id)

    async def _source(
        self,
        turn: Turn,
        temporal: Client,
        ask: ReviewAsk,
        files: list[dict],
        thread_service: str | None,
    ) -> ReviewSource | None:
        if files:
            first = files[0]
            return ReviewSource(
                kind=SourceKind.slack_file, file_id=first.get("id"), filename=first.get("name")
            )
        if ask.snippet:
            language = (ask.language or "").lower()
            name = "snippet" + SUFFIX.get(language, f".{language}" if language else ".py")
            return ReviewSource(kind=SourceKind.snippet, snippet=ask.snippet, filename=name)
        if ask.url:
            return ReviewSource(kind=SourceKind.git, url=ask.url)
        name = ask.service or await self._lone_name(temporal, ask) or thread_service
        if name is None:
            await turn.say(ANSWERS[Mode.review])
            return None
        state = await service_state(temporal, name)
        if state is None or state.current_spec is None:
            meant = near(name, await status_report.service_names(temporal))
            guess = f" Did you mean {' or '.join(f'*{m}*' for m in meant)}?" if meant else ""
            await turn.say(f"I know no service called `{escape(name)}`.{guess}")
            return None
        return ReviewSource(kind=SourceKind.service, service=name, version=ask.version)

    async def _lone_name(self, temporal: Client, ask: ReviewAsk) -> str | None:
        """'review hinagies': a word that is a service's name, or its first part."""
        names = await status_report.service_names(temporal)
        for word in ask.words:
            for name in names:
                if word == name or name.split("-")[0] == word:
                    return name
        return None

    async def apply_from_text(self, turn: Turn, temporal: Client) -> bool:
        """'@shipmate apply the fixes' in a review's thread; False: no review here."""
        query = search.reviews(channel=turn.channel, thread=turn.thread_ts)
        newest = await status_report.newest_matching(temporal, query)
        if newest is None:
            return False
        person = PersonAction(user=turn.user, origin=Origin.command, channel=turn.channel)
        await self._apply(turn, temporal, newest, person)
        return True

    async def on_click(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        action, user = body["actions"][0], body["user"]["id"]
        channel, container, message = clicked_where(body)
        message_ts = container.get("message_ts") or message.get("ts")
        review_id = action.get("value", "")
        if not review_id.startswith("review/") or not channel:
            log.warning("ignoring an Apply fixes click with a foreign value in %s", channel)
            return
        turn = Turn(
            client,
            channel,
            message.get("thread_ts") or message_ts,
            user,
            key=f"apply/{review_id}/{user}/{body.get('trigger_id', '')}",
            temporal=self.temporal,
            task_queue=self.settings.task_queue,
        )
        person = PersonAction(user=user, origin=Origin.card, channel=channel, message_ts=message_ts)
        try:
            temporal = await self.temporal.client()
        except (TemporalUnavailable, RPCError):  # the engine is down: say so, never a trace
            await turn.tell_privately(
                ":warning: I can't reach the workflow engine: click again soon."
            )
            return
        await self._apply(turn, temporal, review_id, person)

    async def _apply(self, turn: Turn, temporal: Client, review_id: str, person) -> None:
        handle = temporal.get_workflow_handle(review_id)
        try:
            await handle.execute_update(ReviewWorkflow.apply, person, result_type=ReviewStatus)
        except WorkflowUpdateFailedError as exc:
            why = str(getattr(exc.cause, "message", None) or exc.cause or "refused")
            await turn.tell_privately(f":no_entry: {escape_keeping_mentions(why)}")
        except RPCError as exc:
            log.info("apply on %s: %s", review_id, exc)
            await turn.tell_privately(
                ":no_entry: that review has ended: ask for a new one to apply its fixes"
            )
