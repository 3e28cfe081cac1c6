"""A click on Roll back under a "v2 is live in staging" message (slack_views.rollback).

The bot only relays: the click asks what `@shipmate roll back orders-api in staging`
asks, through the same request to the service, whose validator decides who may and
whether there is anything to roll back to. Answers go in the thread.

The request is keyed by the message the button sits on, so a double click, a second
person's click or Slack redelivering the click all reach the one roll back the first
click started; a repeated click is told so privately, and a redelivery is answered once.
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient
from temporalio.client import Client
from temporalio.service import RPCError

from bot.temporal_link import TemporalLink
from bot.turn import Turn, clicked_where
from bot.undo_commands import undo_started
from shipmate import delivery_client
from shipmate.people import Directory
from shipmate.settings import Settings
from shipmate.temporal import TemporalUnavailable
from slack_views.rollback import LiveDeploy, read_rollback_value
from slack_views.text import escape_keeping_mentions
from workflows.models import FINISHED, DeliveryTicket, Operation

log = logging.getLogger(__name__)

ENGINE_BUSY = (
    ":warning: I can't reach the workflow engine right now, so nothing was rolled back. "
    "Click again in a minute."
)


class RollbackButton:
    def __init__(self, settings: Settings, temporal: TemporalLink, directory: Directory):
        self.settings = settings
        self.temporal = temporal
        self.directory = directory

    async def on_click(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()  # at once: asking the service may take longer than Slack's 3 s
        action, user = body["actions"][0], body["user"]["id"]
        channel, container, message = clicked_where(body)
        message_ts = container.get("message_ts") or message.get("ts")
        try:
            live = read_rollback_value(action.get("value", ""))
        except ValueError:
            log.warning("ignoring a Roll back click with a foreign value in %s", channel)
            return
        if not channel or not message_ts:
            log.warning("ignoring a Roll back click from outside a channel message")
            return
        pressed = f"rollback/{channel}/{message_ts}"  # the button, however often clicked
        turn = Turn(
            client,
            channel,
            message.get("thread_ts") or message_ts,
            user,
            key=f"{pressed}/{user}/{action.get('action_ts', '')}",  # same on a redelivery
            temporal=self.temporal,
            task_queue=self.settings.task_queue,
        )
        try:
            await self._ask(turn, await self.temporal.client(), live, pressed)
        except (TemporalUnavailable, RPCError) as exc:
            log.warning("Roll back click in %s: the engine did not answer: %s", channel, exc)
            await turn.say(ENGINE_BUSY)

    async def _ask(self, turn: Turn, temporal: Client, live: LiveDeploy, pressed: str) -> None:
        try:
            ticket = await delivery_client.request_undo(
                temporal,
                self.settings,
                Operation.roll_back,
                live.service,
                live.environment,
                turn.user,
                channel=turn.channel,
                thread_ts=turn.thread_ts,
                request_key=pressed,
                directory=self.directory,
                from_delivery=live.delivery_id,
            )
        except delivery_client.DecisionRefused as exc:
            await turn.tell_privately(f":no_entry: {escape_keeping_mentions(str(exc))}")
            return
        if ticket.asked_before:
            await turn.tell_privately(await _asked_before(temporal, ticket, live))
            return
        await turn.say(undo_started(Operation.roll_back, live.service, live.environment, ticket))


async def _asked_before(temporal: Client, ticket: DeliveryTicket, live: LiveDeploy) -> str:
    """A repeated click: where the roll back it started stands."""
    status = await delivery_client.delivery_status(temporal.get_workflow_handle(ticket.delivery_id))
    if status is not None and status.state in FINISHED and not status.retry_possible:
        return (
            f"This button's roll back (`{ticket.delivery_id}`) has ended ({status.state}). "
            f"To roll back again, say `@shipmate roll back {live.service} in {live.environment}`."
        )
    return f"This button's roll back is already asked for: `{ticket.delivery_id}`, on its card."
