"""The Temporal worker: the delivery workflows and every stage activity on one queue."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker

from activities.slack_notify import SlackNotifier
from activities.stages import DeliveryActivities
from shipmate.settings import Settings
from workflows.delivery import DeliveryWorkflow
from workflows.service import ServiceWorkflow


def build_worker(client: Client, settings: Settings, executor: ThreadPoolExecutor) -> Worker:
    """Docker and boto3 block, so activities run in the executor, a few at a time."""
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[ServiceWorkflow, DeliveryWorkflow],
        activities=[*DeliveryActivities(settings).all(), SlackNotifier(settings).notify],
        activity_executor=executor,
        max_concurrent_activities=executor._max_workers,
    )
