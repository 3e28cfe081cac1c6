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

from temporalio import activity

from shipmate import deliveries
from shipmate.outbox import enqueue
from shipmate.settings import Settings
from slack_views.card import card_text, status_card
from slack_views.rollback import live_blocks
from slack_views.thread import announcement
from workflows import activity_contracts as contracts
from workflows.activity_contracts import implements
from workflows.models import (
    DeliveryStatus,
    Moment,
    MomentKind,
    NotifyInput,
    NotifyResult,
    Operation,
)
from workflows.slack_messages import MessageKind, OutgoingMessage

log = logging.getLogger(__name__)


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
                    )
                )
        for message in messages:
            await enqueue(activity.client(), self.settings.task_queue, message)
        return NotifyResult(card_ts=update.card_ts)

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
        target = await deliveries.rollback_target(activity.client(), status.service, env)
        if target is None:
            return None
        blocks = live_blocks(
            text, status.service, env, status.delivery_id, live.version, target.version
        )
        return [b.to_dict() for b in blocks]
