"""The Temporal workers: the workflows on the task queue, and each kind of activity on
a queue of its own with its own slots (workflows/queues.py says which goes where).

Any worker process can run any stage (stage outputs travel through the artifact store
and the registry), so workers are added and removed freely; `SHIPMATE_WORKER_ROLES`
lets a deployment scale the kinds apart (a builders-only release, say). One
that is told to stop (SIGTERM, as Kubernetes and `shipmate dev` do) takes no new work
and gives the stages it is running a grace period to finish before handing them back.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities.optimize.stages import OptimizeActivities
from activities.outbox_sender import SlackSender
from activities.outbox_stash import BacklogStash
from activities.review.stages import ReviewActivities
from activities.slack_notify import SlackNotifier
from activities.stages import DeliveryActivities
from activities.worker_rules import WorkerRules
from shipmate import worker_versions
from shipmate.settings import Settings
from workflows import queues
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.optimize_workflow import OptimizeWorkflow
from workflows.outbox_workflow import SlackOutbox
from workflows.review_workflow import ReviewWorkflow
from workflows.service_workflow import ServiceWorkflow

WORKFLOWS = [ServiceWorkflow, DeliveryWorkflow, SlackOutbox, ReviewWorkflow, OptimizeWorkflow]
# Planning, the model's reading of a review and handing its fixes on: no Docker, no Slack.
ON_WORKFLOWS_QUEUE = (
    "plan_service",
    "review_with_model",
    "request_fixes",
    "request_speedup",
    "delivery_outcome",
)
# A stage's progress (its heartbeat details) reaches the engine at most this late; the
# SDK's default holds it back for up to a minute, which `shipmate status` would show.
PROGRESS_EVERY = timedelta(seconds=5)


def slack_activities(settings: Settings) -> list:
    """Announcing to the outbox, the outbox's one Slack call and its backlog's stash."""
    stash = BacklogStash(settings)
    return [
        SlackNotifier(settings).notify,
        SlackSender(settings).send_to_slack,
        stash.stash_backlog,
        stash.fetch_backlog,
        stash.forget_backlog,
    ]


class WorkerGroup:
    """Several Temporal workers run, and stop, as one. `started`: awaited once they
    poll (making their build current); if it fails, they stop and the failure is raised."""

    def __init__(
        self,
        workers: Sequence[Worker],
        executors: Sequence[ThreadPoolExecutor] = (),
        started: Callable[[], Awaitable[None]] | None = None,
    ):
        self.workers, self._executors, self._started = list(workers), list(executors), started
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> WorkerGroup:
        for worker in self.workers:
            await self._stack.enter_async_context(worker)
        if self._started is not None:
            try:
                await self._started()
            except BaseException:
                # the workers stop, and a worker's own fatal error is raised, not hidden
                await self._stack.__aexit__(*sys.exc_info())
                for executor in self._executors:
                    executor.shutdown(wait=False)
                raise
        return self

    async def __aexit__(self, *exc) -> None:
        await self._stack.aclose()  # shuts every worker down, grace period included
        for executor in self._executors:
            executor.shutdown(wait=False)

    async def run(self) -> None:
        """Until every worker has stopped; one that fails stops the others with it."""
        running = [asyncio.create_task(worker.run()) for worker in self.workers]
        together = asyncio.gather(*running)
        started = asyncio.ensure_future(self._started()) if self._started else None
        try:
            if started is not None:  # unless the workers stop first (a SIGTERM)
                await asyncio.wait({started, together}, return_when=asyncio.FIRST_COMPLETED)
                if started.done() and started.exception() is not None:
                    raise started.exception()
            await together
        finally:
            if started is not None:
                started.cancel()
            for task in running:
                task.cancel()  # a worker's run, cancelled, shuts it down
            await asyncio.gather(*running, return_exceptions=True)
            for executor in self._executors:
                executor.shutdown(wait=False)

    async def shutdown(self) -> None:
        await asyncio.gather(*(worker.shutdown() for worker in self.workers))


def build_workers(
    client: Client, settings: Settings, stages: list | None = None, workflows=WORKFLOWS
) -> WorkerGroup:
    """One worker per role this process has, all polling as this build; Docker and
    boto3 block, so their activities run in thread pools as large as their slots.
    `stages` and `workflows`: other implementations (scripted stages, or another
    build's code, in tests)."""
    implemented = DeliveryActivities(settings).all() if stages is None else stages
    by_name = {a.__temporal_activity_definition.name: a for a in implemented}
    modes = [*ReviewActivities(settings).all(), *OptimizeActivities(settings).all()]
    of_modes = {a.__temporal_activity_definition.name: a for a in modes}
    by_name = {**of_modes, **by_name}  # scripted stages may stand in for a mode's too
    grace = timedelta(seconds=settings.worker_shutdown_seconds)
    build = worker_versions.deployment_config(settings)
    workers, executors = [], []

    def add(queue: str, slots: int, workflows=(), activities=()) -> None:
        executor = ThreadPoolExecutor(max_workers=slots, thread_name_prefix=queue)
        executors.append(executor)
        workers.append(
            Worker(
                client,
                task_queue=queue,
                workflows=list(workflows),
                activities=list(activities),
                activity_executor=executor,
                max_concurrent_activities=slots,
                graceful_shutdown_timeout=grace,
                max_heartbeat_throttle_interval=PROGRESS_EVERY,
                default_heartbeat_throttle_interval=PROGRESS_EVERY,
                deployment_config=build,
            )
        )

    base, roles = settings.task_queue, set(settings.worker_roles)
    if "workflows" in roles:
        rules = WorkerRules(settings).environment_rules
        on_base = [by_name[name] for name in ON_WORKFLOWS_QUEUE]
        add(base, settings.plan_slots, workflows, [*on_base, rules])
    for kind in queues.KINDS:
        if kind not in roles:
            continue
        if kind == queues.SLACK:
            chosen = slack_activities(settings)
            chosen += [a for name, a in of_modes.items() if queues.KIND_OF.get(name) == kind]
        else:
            chosen = [a for name, a in by_name.items() if queues.KIND_OF.get(name) == queues.DOCKER]
        add(queues.queue_name(base, kind), getattr(settings, f"{kind}_slots"), (), chosen)
    started = None
    if build is not None and "workflows" in roles:
        polled = [worker.task_queue for worker in workers]
        started = functools.partial(worker_versions.promote_on_start, client, settings, polled)
    return WorkerGroup(workers, executors, started)


async def run_until_stopped(workers: WorkerGroup) -> None:
    """Run until SIGTERM or SIGINT, then shut down: stages that finish within the grace
    period report their result; the others are cancelled and retried elsewhere."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    running = asyncio.create_task(workers.run())
    stop = asyncio.create_task(stopping.wait())
    await asyncio.wait({running, stop}, return_when=asyncio.FIRST_COMPLETED)
    if not running.done():
        await workers.shutdown()
    stop.cancel()
    await running
