"""Handing a message to its channel's SlackOutbox (signal-with-start): bot and worker alike."""

from __future__ import annotations

from temporalio.client import Client

from workflows.outbox_messages import OutboxState, OutgoingMessage
from workflows.outbox_workflow import SlackOutbox, outbox_id


async def enqueue(client: Client, task_queue: str, message: OutgoingMessage) -> None:
    """Queue `message`; the outbox starts if the channel has none running."""
    await client.start_workflow(
        SlackOutbox.run,
        OutboxState(channel=message.channel),
        id=outbox_id(task_queue, message.channel),
        task_queue=task_queue,
        start_signal="enqueue",
        start_signal_args=[message],
    )
