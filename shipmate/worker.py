"""The Temporal worker: the workflows and every activity on one queue."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker

from activities.slack_notify import SlackNotifier
from activities.slack_sender import SlackSender
from activities.stages import DeliveryActivities
from shipmate.settings import Settings
from workflows.delivery import DeliveryWorkflow
from workflows.service import ServiceWorkflow
from workflows.slack_outbox import SlackOutbox

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
    )
