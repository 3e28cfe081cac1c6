"""The load test's card and its one "done" reply, handed to the channel's outbox.

Keyed like a review's: the card by its optimization (posted once, then edited), the reply
by the optimization and its ending, so a retried activity queues nothing twice. The
outbox tells the optimization where its card is (reply_to), which binds its button.
"""

from __future__ import annotations

from temporalio.client import Client

from shipmate.outbox_client import enqueue
from shipmate.settings import Settings
from slack_views.optimize_card import card_text, figures_line, optimize_card
from slack_views.text import escape
from workflows.optimize_models import OptimizeState, OptimizeStatus
from workflows.outbox_messages import MessageKind, OutgoingMessage


async def send_card(settings: Settings, client: Client, status: OptimizeStatus) -> None:
    if settings.slack_bot_token is None or not status.slack_channel:
        return
    messages = [
        OutgoingMessage(
            key=f"card/{status.optimize_id}",
            kind=MessageKind.card,
            channel=status.slack_channel,
            thread_ts=status.slack_thread_ts,
            text=card_text(status),
            blocks=[block.to_dict() for block in optimize_card(status)],
            reply_to=status.optimize_id,
        )
    ]
    if status.before is not None:  # measured again after Apply: said once more
        messages.append(
            OutgoingMessage(
                key=f"{status.optimize_id}/again",
                channel=status.slack_channel,
                thread_ts=status.slack_thread_ts,
                text=f"<@{status.applied_by or status.requester}> measured again after the "
                f"speed-ups: {figures_line(status)}.",
            )
        )
    if status.finished:
        messages.append(
            OutgoingMessage(
                key=f"{status.optimize_id}/{status.state}",
                channel=status.slack_channel,
                thread_ts=status.slack_thread_ts,
                text=ending(status),
            )
        )
    for message in messages:
        await enqueue(client, settings.task_queue, message)


def ending(status: OptimizeStatus) -> str:
    """Said once in the thread when the load test ends: a card edit notifies nobody."""
    who = f"<@{status.requester}>"
    what = f"the load test of {escape(status.service)}"
    if status.state == OptimizeState.succeeded and status.load is not None:
        spots = f" {len(status.spots)} slow spots found." if status.spots else ""
        return f"{who} {what} is done: {figures_line(status)}.{spots}"
    return f"{who} {what} did not run to the end: {escape(status.error or 'cancelled')}"
