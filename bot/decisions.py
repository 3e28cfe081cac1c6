"""Decisions in Slack: buttons, explicit commands, and private questions.

A decision reaches a delivery only from a button or an explicit command addressed to
Shipmate (bot.commands). Casual words that sound like one get a private question with
a button. Every decision says where it came from (the card, the private question, the
App Home, a command) and the person's user groups as Slack says now, so the workflow's
validator can bind a button to its card and apply the policy; refusals are told to
that person alone, in plain words.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient
from temporalio.client import Client
from temporalio.service import RPCError

from bot.commands import Command, Verb
from bot.temporal_link import TemporalLink
from bot.turn import Turn, clicked_where
from shipmate import delivery_client, status_report
from shipmate.people import Directory
from shipmate.temporal import TemporalUnavailable
from slack_views.card import APPROVE_LOSING_DATA, read_button_value
from slack_views.direct import DIRECT_ACTIONS
from slack_views.prompts import DISMISS, decision_prompt, decision_question
from workflows import search
from workflows.access import Origin
from workflows.models import DeliveryStatus, GateState

log = logging.getLogger(__name__)

CARD_WAITS = 10  # half-second waits for a just-posted card to reach its delivery

ENGINE_BUSY = (
    ":warning: I can't reach the workflow engine right now. Nothing was decided; "
    "try again in a minute."
)


@dataclass(frozen=True)
class Click:
    """A decision button's click: which gate, where it was made, which thread to answer in."""

    delivery_id: str
    environment: str
    channel: str | None
    thread_ts: str | None
    how: dict  # origin, channel and message_ts, as the workflow's validator judges them


def read_click(body: dict) -> Click | None:
    """The click, or None for a button value Shipmate did not write. The origin is the
    card, the private question, an approver's DM (its block says so) or the App Home."""
    action = body["actions"][0]
    try:
        delivery_id, env = read_button_value(action.get("value", ""))
    except ValueError:
        log.warning("ignoring a click with a foreign value: %s", action.get("action_id"))
        return None
    channel, container, message = clicked_where(body)
    if container.get("type") == "view":
        origin = Origin.home
    elif container.get("is_ephemeral"):
        origin = Origin.prompt
    elif action.get("block_id") == DIRECT_ACTIONS:
        origin = Origin.direct
    else:
        origin = Origin.card
    how = {"origin": origin, "channel": channel, "message_ts": container.get("message_ts")}
    thread_ts = message.get("thread_ts") or message.get("ts")
    return Click(delivery_id, env, channel, thread_ts, how)


def open_gate(status: DeliveryStatus) -> str | None:
    return next((g.environment for g in status.gates if g.state == GateState.open), None)


class Decisions:
    def __init__(
        self,
        temporal: TemporalLink,
        task_queue: str,
        directory: Directory,
        after_home_click: Callable[[AsyncWebClient, str], Awaitable[None]],
    ):
        self.temporal = temporal
        self.task_queue = task_queue
        self.directory = directory
        self.after_home_click = after_home_click

    async def on_button(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()  # at once: the decision itself may take longer than Slack's 3 s
        action, user = body["actions"][0], body["user"]["id"]
        if action["action_id"] == DISMISS:
            return
        click = read_click(body)
        if click is None:
            return
        key = f"click:{user}:{action.get('action_ts', '')}"  # the same on a redelivery
        turn = self.turn(client, click.channel, click.thread_ts, user, key=key)
        if action["action_id"] == APPROVE_LOSING_DATA:  # its confirm named what goes
            verb, how = Verb.approve, {**click.how, "accepts_data_loss": True}
        else:
            verb, how = Verb(action["action_id"]), click.how
        await self.decide(turn, click.delivery_id, verb, click.environment, "", how)

    def turn(self, client, channel: str | None, thread_ts: str | None, user: str, key: str) -> Turn:
        return Turn(
            client,
            channel,
            thread_ts,
            user,
            key=key,
            temporal=self.temporal,
            task_queue=self.task_queue,
        )

    async def run(self, turn: Turn, temporal: Client, command: Command, status) -> None:
        """An explicit command; `status` is the thread's delivery, if said in one."""
        status = status or await self._named_delivery(turn, temporal, command)
        if status is None:
            return
        env = command.environment or ""
        if command.verb in (Verb.approve, Verb.reject):
            env = env or open_gate(status) or ""
            if not env:
                await turn.tell_privately("Nothing in this delivery is waiting for a decision.")
                return
        how = {"origin": Origin.command, "channel": turn.channel}
        await self.decide(turn, status.delivery_id, command.verb, env, command.reason, how)

    async def ask_privately(self, turn: Turn, status: DeliveryStatus, verb: Verb) -> None:
        """Casual words that sound like a decision: a private question, never an action."""
        env = open_gate(status) or ""
        if verb in (Verb.approve, Verb.reject) and not env:
            return
        if verb == Verb.cancel and not status.in_flight:
            return
        if verb == Verb.retry and not status.retry_possible:
            return
        await turn.tell_privately(
            decision_question(status, verb, env) + " Nothing happens unless you click.",
            decision_prompt(status, verb, env),
        )

    async def _named_delivery(self, turn: Turn, temporal: Client, command: Command):
        """Outside a delivery's thread a command names its delivery or its service."""
        if command.delivery_id:
            handle = temporal.get_workflow_handle(command.delivery_id)
            found = await delivery_client.delivery_status(handle)
        elif command.service:
            query = search.deliveries(running=True, service=command.service)
            candidates = await status_report.deliveries_matching(temporal, query)
            found = next((s for s in candidates if s.in_flight), None)
        else:
            await turn.tell_privately(
                f"Which delivery? Say it in the delivery's thread, or name the service: "
                f"`@shipmate {command.verb.value} orders-api staging`."
            )
            return None
        if found is None:
            what = command.delivery_id or command.service
            await turn.tell_privately(f"I found no delivery in flight for `{what}`.")
        return found

    async def decide(
        self, turn: Turn, delivery_id: str, verb: Verb, env: str, reason: str, how: dict
    ) -> None:
        """Send one decision; a refusal is told to that person alone. A decision made in
        the App Home refreshes it, so the approved delivery leaves its list."""
        await self._try_decide(turn, delivery_id, verb, env, reason, how)
        if how["origin"] == Origin.home:
            await self.after_home_click(turn.client, turn.user)

    async def _try_decide(
        self, turn: Turn, delivery_id: str, verb: Verb, env: str, reason: str, how: dict
    ) -> None:
        for attempt in range(CARD_WAITS):
            try:
                await self._send_decision(turn, delivery_id, verb, env, reason, how)
                return
            except delivery_client.CardNotReady as exc:
                if attempt == CARD_WAITS - 1:
                    await turn.tell_privately(f":hourglass: {exc}")
                await asyncio.sleep(0.5)  # the outbox tells the delivery in a moment
            except delivery_client.DecisionRefused as exc:
                await turn.tell_privately(f":no_entry: {exc}")
                return
            except (TemporalUnavailable, RPCError):
                await turn.tell_privately(ENGINE_BUSY)
                return

    async def _send_decision(
        self, turn: Turn, delivery_id: str, verb: Verb, env: str, reason: str, how: dict
    ) -> None:
        temporal = await self.temporal.client()
        how["groups"] = await self.directory.groups_of(turn.user)
        if verb in (Verb.approve, Verb.reject):
            default = "" if verb == Verb.approve else "rejected in Slack"
            await delivery_client.decide(
                temporal,
                delivery_id,
                turn.user,
                env,
                approve=verb == Verb.approve,
                reason=reason or default,
                **how,
            )
        elif verb == Verb.cancel:
            await delivery_client.cancel(
                temporal, delivery_id, turn.user, reason or "cancelled in Slack", **how
            )
        else:
            await delivery_client.retry(temporal, delivery_id, turn.user, **how)
