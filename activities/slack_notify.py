"""The `notify` activity: the delivery's status card and its announcements, to the outbox.

Called by the workflow with the newest status (edits are coalesced there). It renders
the card and each moment's reply and hands them to the channel's SlackOutbox, keyed:
the card by its delivery (posted once, then edited), each moment by what it is, so a
retried activity or a worker killed halfway queues nothing twice. Sending (pace,
429s, exactly once) is the outbox's. A deploy announced as live carries a Roll back
button when the service entity, asked here (an activity may), has a version to put back.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from temporalio import activity

from shipmate import delivery_client
from shipmate.environments import is_production
from shipmate.outbox_client import enqueue
from shipmate.settings import Settings
from slack_views.card import card_text, status_card
from slack_views.direct import (
    approvers_to_tell,
    gate_message,
    gate_message_text,
    reminder,
    waiting_on,
)
from slack_views.rollback import live_blocks
from slack_views.thread import announcement
from workflows import activity_contracts as contracts
from workflows.activity_contracts import implements
from workflows.models import DeliveryStatus, Operation
from workflows.outbox_messages import MessageKind, OutgoingMessage
from workflows.stage_models import Moment, MomentKind, NotifyInput, NotifyResult

log = logging.getLogger(__name__)

DIRECT_MOMENTS = (MomentKind.gate_open, MomentKind.gate_reminder, MomentKind.gate_closed)


def moment_key(delivery_id: str, moment: Moment) -> str:
    return f"{delivery_id}/{moment.kind}/{moment.environment}/{moment.number}"


class SlackNotifier:
    def __init__(self, settings: Settings):
        self.settings = settings

    @implements(contracts.notify)
    async def notify(self, update: NotifyInput) -> NotifyResult:
        if self.settings.slack_bot_token is None or not update.channel:
            log.info("no Slack token or channel; %s not posted", update.status.delivery_id)
            return NotifyResult(card_ts=update.card_ts)
        status = update.status
        ui = f"{self.settings.temporal_ui_url}/namespaces/{self.settings.temporal_namespace}"
        messages = [
            OutgoingMessage(
                key=f"card/{status.delivery_id}",
                kind=MessageKind.card,
                channel=update.channel,
                thread_ts=update.thread_ts,
                text=card_text(status),
                blocks=[b.to_dict() for b in status_card(status, ui)],
                edit_ts=update.card_ts,
                reply_to=status.delivery_id,
                delivery_id=status.delivery_id,
            )
        ]
        for moment in update.announce:
            text = announcement(status, moment)
            if text:
                messages.append(
                    OutgoingMessage(
                        key=moment_key(status.delivery_id, moment),
                        channel=update.channel,
                        thread_ts=update.thread_ts,
                        text=text,
                        blocks=await self._with_rollback(status, moment, text),
                        broadcast=self.broadcasts(status, moment),
                        delivery_id=status.delivery_id,
                    )
                )
            messages += await self._to_approvers(status, moment, update)
        for message in messages:
            await enqueue(activity.client(), self.settings.task_queue, message)
        return NotifyResult(card_ts=update.card_ts)

    def broadcasts(self, status: DeliveryStatus, moment: Moment) -> bool:
        """Live, rolled back and failed also go to the channel, for the environments set
        to (the production ones unless SHIPMATE_BROADCAST_ENVIRONMENTS says)."""
        if moment.kind == MomentKind.deployed:
            env = moment.environment
        elif moment.kind == MomentKind.failed and status.current_stage:
            env = status.current_stage.name.partition(" ")[2]  # "deploy prod" -> prod
        else:
            return False
        chosen = self.settings.broadcast_environments
        production = is_production(self.settings, env)
        return bool(env) and (env in chosen if chosen is not None else production)

    async def _to_approvers(
        self, status: DeliveryStatus, moment: Moment, update: NotifyInput
    ) -> list[OutgoingMessage]:
        """A gate that opens is told to its approvers by DM, with the card's buttons; the
        DM is edited when the gate closes, and a reminder follows before it expires."""
        if moment.kind not in DIRECT_MOMENTS:
            return []
        gate = status.gate(moment.environment)
        if gate is None:
            return []
        link = await self._thread_link(update.channel, update.thread_ts or update.card_ts)
        prefix = f"{status.delivery_id}/{gate.environment}"
        if moment.kind == MomentKind.gate_reminder:
            text = reminder(status, gate, link)
            return [
                OutgoingMessage(key=f"remind/{prefix}/{user}", channel=user, text=text)
                for user in waiting_on(status, gate)
            ]
        blocks = [b.to_dict() for b in gate_message(status, gate, link)]
        return [
            OutgoingMessage(
                key=f"gate/{prefix}/{user}",  # posted when the gate opens, edited as it closes
                kind=MessageKind.card,
                channel=user,
                text=gate_message_text(status, gate),
                blocks=blocks,
            )
            for user in approvers_to_tell(status, gate)
        ]

    async def _thread_link(self, channel: str | None, ts: str | None) -> str | None:
        """The thread's permalink, so a DM can send its reader there; none if Slack won't say."""
        if not channel or not ts:
            return None
        token = self.settings.slack_bot_token
        client = AsyncWebClient(
            token=token.get_secret_value() if token else None,
            base_url=self.settings.slack_api_url or AsyncWebClient.BASE_URL,
        )
        try:
            return (await client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"]
        except SlackApiError as exc:
            log.info("no permalink for %s in %s: %s", ts, channel, exc.response.get("error"))
            return None

    async def _with_rollback(
        self, status: DeliveryStatus, moment: Moment, text: str
    ) -> list[dict] | None:
        """A deploy announced as live gets a Roll back button when its service has an
        earlier version to put back there; the service entity, asked now, knows."""
        if moment.kind != MomentKind.deployed or status.operation != Operation.build:
            return None
        env = moment.environment
        live = next((d for d in status.deployments if d.environment == env), None)
        if live is None or not status.service:
            return None
        target = await delivery_client.rollback_target(activity.client(), status.service, env)
        if target is None:
            return None
        blocks = live_blocks(
            text, status.service, env, status.delivery_id, live.version, target.version
        )
        return [b.to_dict() for b in blocks]
