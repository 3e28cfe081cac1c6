"""The Temporal worker: the workflows and every activity on one queue.

Any worker on the queue can run any stage (stage outputs travel through the artifact
store and the registry), so workers are added and removed freely; one that is told to
stop (SIGTERM, as Kubernetes and `shipmate dev` do) takes no new work and gives the
stages it is running a grace period to finish before handing them back.
"""

from __future__ import annotations

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities.outbox_sender import SlackSender
from activities.slack_notify import SlackNotifier
from activities.stages import DeliveryActivities
from shipmate.settings import Settings
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.outbox_workflow import SlackOutbox
from workflows.service_workflow import ServiceWorkflow

WORKFLOWS = [ServiceWorkflow, DeliveryWorkflow, SlackOutbox]


def slack_activities(settings: Settings) -> list:
    """Announcing to the outbox, and the outbox's one Slack call."""
    return [SlackNotifier(settings).notify, SlackSender(settings).send_to_slack]


def build_worker(client: Client, settings: Settings, executor: ThreadPoolExecutor) -> Worker:
    """Docker and boto3 block, so activities run in the executor, a few at a time."""
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=[*DeliveryActivities(settings).all(), *slack_activities(settings)],
        activity_executor=executor,
        max_concurrent_activities=executor._max_workers,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_seconds),
    )


async def run_until_stopped(worker: Worker) -> None:
    """Run until SIGTERM or SIGINT, then shut down: stages that finish within the grace
    period report their result; the others are cancelled and retried elsewhere."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    running = asyncio.create_task(worker.run())
    stop = asyncio.create_task(stopping.wait())
    await asyncio.wait({running, stop}, return_when=asyncio.FIRST_COMPLETED)
    if not running.done():
        await worker.shutdown()
    stop.cancel()
    await running
