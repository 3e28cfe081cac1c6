"""The review's card and its one "done" reply, handed to the channel's outbox.

Keyed like a delivery's: the card by its review (posted once, then edited), the reply
by the review and its ending, so a retried activity queues nothing twice. The outbox
tells the review where its card is (reply_to), which binds the Apply button to it.
"""

from __future__ import annotations

from temporalio.client import Client

from shipmate.outbox_client import enqueue
from shipmate.settings import Settings
from slack_views.review_card import card_text, counts_line, review_card
from slack_views.text import escape
from workflows.outbox_messages import MessageKind, OutgoingMessage
from workflows.review_models import ReviewState, ReviewStatus


async def send_card(settings: Settings, client: Client, status: ReviewStatus) -> None:
    if settings.slack_bot_token is None or not status.slack_channel:
        return
    messages = [
        OutgoingMessage(
            key=f"card/{status.review_id}",
            kind=MessageKind.card,
            channel=status.slack_channel,
            thread_ts=status.slack_thread_ts,
            text=card_text(status),
            blocks=[block.to_dict() for block in review_card(status)],
            reply_to=status.review_id,
        )
    ]
    if status.finished:
        messages.append(
            OutgoingMessage(
                key=f"{status.review_id}/{status.state}",
                channel=status.slack_channel,
                thread_ts=status.slack_thread_ts,
                text=ending(status),
            )
        )
    for message in messages:
        await enqueue(client, settings.task_queue, message)


def ending(status: ReviewStatus) -> str:
    """Said once in the thread when the review ends: a card edit notifies nobody."""
    who = f"<@{status.requester}>"
    label = escape(status.source.label())
    if status.state == ReviewState.succeeded:
        fixes = f" {len(status.fixes)} of them come with fixes that apply." if status.fixes else ""
        return f"{who} the review of {label} is done: {counts_line(status)}.{fixes}"
    return f"{who} the review of {label} did not finish: {escape(status.error or 'cancelled')}"
