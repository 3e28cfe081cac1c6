"""Optimizer mode in the conversation: "load test orders-api in staging", "why is
orders-api slow?" becomes an OptimizeWorkflow; its card's button is the go-ahead a
production environment waits for.

The bot only reads names and numbers and relays clicks: the worker finds the address
(never the person's text), the workflow refuses a person who may not ask, and the
`go_ahead` validator decides who may say yes. One message started twice (Slack
redelivers) is one load test: its id is the message's.
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from bot.intents import Intent
from bot.temporal_link import TemporalLink
from bot.turn import Turn, clicked_where
from shipmate import status_report
from shipmate.people import Directory
from shipmate.settings import Settings
from shipmate.temporal import TemporalUnavailable
from slack_views.text import escape, escape_keeping_mentions
from understanding.load_request import read_load
from understanding.near_names import near
from workflows import search
from workflows.access import Origin, PersonAction
from workflows.optimize_models import OptimizeRequest, OptimizeStatus
from workflows.optimize_workflow import OptimizeWorkflow

log = logging.getLogger(__name__)
WHICH = (
    "Which service should I load test? Say `@shipmate load test <service> in <environment>`; "
    "I only load services I deployed, at their own address."
)


class Optimizations:
    def __init__(self, settings: Settings, temporal: TemporalLink, directory: Directory):
        self.settings = settings
        self.temporal = temporal
        self.directory = directory  # an approver through a user group says yes through it

    async def start(self, turn: Turn, temporal: Client, text: str, service: str | None) -> None:
        """`service`: the thread's, when asked in a delivery's thread ("why is it slow?")."""
        ask = read_load(text)
        names = await status_report.service_names(temporal)
        name = _named(ask.words, names) or ask.service or service
        if name is None:
            await turn.say(WHICH)
            return
        if name not in names:
            meant = near(name, names)
            guess = f" Did you mean {' or '.join(f'*{m}*' for m in meant)}?" if meant else ""
            await turn.say(
                f"I know no service called `{escape(name)}`: I only load services I deployed."
                f"{guess}"
            )
            return
        request = OptimizeRequest(
            service=name,
            environment=ask.environment,
            requester=turn.user,
            request_text=text[:500],
            seconds=ask.seconds,
            users=ask.users,
            slack_channel=turn.channel,
            slack_thread_ts=turn.thread_ts,
        )
        optimize_id = "optimize/" + (turn.key or f"{turn.channel}:{turn.thread_ts}").replace(
            ":", "/"
        )
        try:
            await temporal.start_workflow(
                OptimizeWorkflow.run,
                request,
                id=optimize_id,
                task_queue=self.settings.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            log.info("%s was started already (a redelivered message)", optimize_id)

    async def on_go_ahead(self, ack, body: dict, client: AsyncWebClient) -> None:
        await self._on_click(ack, body, client, OptimizeWorkflow.go_ahead)

    async def on_apply(self, ack, body: dict, client: AsyncWebClient) -> None:
        await self._on_click(ack, body, client, OptimizeWorkflow.apply)

    async def apply_from_text(self, turn: Turn, temporal: Client) -> bool:
        """'@shipmate apply' in a load test's thread; False: no load test here."""
        query = search.optimizations(channel=turn.channel, thread=turn.thread_ts)
        newest = await status_report.newest_matching(temporal, query)
        if newest is None:
            return False
        groups = await self.directory.groups_of(turn.user)
        person = PersonAction(
            user=turn.user, groups=groups, origin=Origin.command, channel=turn.channel
        )
        await self._update(turn, temporal, newest, OptimizeWorkflow.apply, person)
        return True

    async def _on_click(self, ack, body: dict, client: AsyncWebClient, update) -> None:
        await ack()
        action, user = body["actions"][0], body["user"]["id"]
        channel, container, message = clicked_where(body)
        message_ts = container.get("message_ts") or message.get("ts")
        optimize_id = action.get("value", "")
        if not optimize_id.startswith("optimize/") or not channel:
            log.warning("ignoring a load test click with a foreign value in %s", channel)
            return
        turn = Turn(
            client,
            channel,
            message.get("thread_ts") or message_ts,
            user,
            key=f"click/{optimize_id}/{user}/{body.get('trigger_id', '')}",
            temporal=self.temporal,
            task_queue=self.settings.task_queue,
        )
        groups = await self.directory.groups_of(user)
        person = PersonAction(
            user=user, groups=groups, origin=Origin.card, channel=channel, message_ts=message_ts
        )
        try:
            temporal = await self.temporal.client()
        except (TemporalUnavailable, RPCError):  # the engine is down: say so, never a trace
            await turn.tell_privately(
                ":warning: I can't reach the workflow engine: click again soon."
            )
            return
        await self._update(turn, temporal, optimize_id, update, person)

    async def _update(self, turn: Turn, temporal: Client, optimize_id: str, update, person):
        handle = temporal.get_workflow_handle(optimize_id)
        try:
            await handle.execute_update(update, person, result_type=OptimizeStatus)
        except WorkflowUpdateFailedError as exc:
            why = str(getattr(exc.cause, "message", None) or exc.cause or "refused")
            await turn.tell_privately(f":no_entry: {escape_keeping_mentions(why)}")
        except RPCError as exc:
            log.info("%s on %s: %s", update.__name__, optimize_id, exc)
            await turn.tell_privately(":no_entry: that load test has ended: ask for a new one")


def wants_load(intent: Intent, text: str) -> bool:
    """A request for a run ('hammer orders-api'), not talk about one ('who ran the load
    test?'), which gets the mode's answer instead. Read as a build ('kitchen-backend dev,
    20 users, 5 min, go') or a review ('… check the new endpoints'), it is one still unless
    it describes a service to build or asks for a review first."""
    ask = read_load(text)
    if intent == Intent.optimize:
        return ask.asked
    if intent == Intent.review:  # 'can you run a load test … check the new endpoints'
        return ask.asked and not ask.review_first
    return intent == Intent.build and ask.asked and not ask.describes_a_build


def _named(words: list[str], names: list[str]) -> str | None:
    """A service named in full anywhere in the message, else a word that is the first part
    of one's name ('why is hinagies slow?', 'load test the warehouse backend')."""
    for word in words:
        if word in names:
            return word
    for word in words:
        for name in names:
            if name.startswith(f"{word}-"):
                return name
    return None
