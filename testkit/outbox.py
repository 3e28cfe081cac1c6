"""A channel's outbox started with a backlog, as the benchmark and the tests queue one."""

from __future__ import annotations

from temporalio.client import Client, WorkflowHandle

from workflows.outbox_messages import OutboxState, OutgoingMessage
from workflows.outbox_workflow import SlackOutbox, outbox_id


async def queue_in_outbox(
    client: Client, task_queue: str, state: OutboxState, messages: list[OutgoingMessage]
) -> WorkflowHandle:
    """Start the channel's outbox with the first message and signal the rest, in order."""
    handle = await client.start_workflow(
        SlackOutbox.run,
        state,
        id=outbox_id(task_queue, state.channel),
        task_queue=task_queue,
        start_signal="enqueue",
        start_signal_args=[messages[0]],
    )
    for message in messages[1:]:
        await handle.signal(SlackOutbox.enqueue, message)
    return handle
