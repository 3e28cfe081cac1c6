"""Stand-in stage activities implementing the declared contracts, for workflow logic.

The project's real activities are tested on their own (with Docker); these let the
workflow tests script failures, slowness and cancellation on the real Temporal server.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.worker_rules import WorkerRules
from shipmate.settings import Settings
from understanding import parse_request
from workflows import activity_contracts as contracts
from workflows.activity_contracts import implements
from workflows.queues import KINDS, queue_name
from workflows.spec import ServiceSpec
from workflows.stage_models import (
    BuiltImage,
    DeployInput,
    DeployResult,
    NotifyInput,
    NotifyResult,
    PlanInput,
    Rules,
    RulesInput,
    ScaffoldInput,
    ScaffoldResult,
    TeardownInput,
    TestReport,
)


@dataclass
class Script:
    """What the fake stages do: fail N times for good, or block until released."""

    fail: Counter = field(default_factory=Counter)
    flaky: Counter = field(default_factory=Counter)  # attempts that fail and are retried
    block: dict[str, asyncio.Event] = field(default_factory=dict)
    calls: Counter = field(default_factory=Counter)
    cancelled: list[str] = field(default_factory=list)
    notified: list[str] = field(default_factory=list)
    deployed: list[DeployInput] = field(default_factory=list)
    scaffolded: list[ScaffoldInput] = field(default_factory=list)
    torn_down: list[tuple[str, str]] = field(default_factory=list)
    settings: Settings | None = None  # the worker's: what its gates' rules come from

    async def _enter(self) -> None:
        name = activity.info().activity_type  # the contract's name, as in history
        self.calls[name] += 1
        if name in self.block:
            try:
                while not self.block[name].is_set():
                    activity.heartbeat()
                    await asyncio.sleep(0.1)
            except asyncio.CancelledError:
                self.cancelled.append(name)
                raise
        if self.fail[name] > 0:
            self.fail[name] -= 1
            raise ApplicationError(f"{name} broke", "line 1\nline 2", non_retryable=True)
        if self.flaky[name] > 0:
            self.flaky[name] -= 1
            raise ApplicationError(f"{name} flaked")

    def activities(self) -> list:
        script = self

        @implements(contracts.environment_rules)
        async def environment_rules(request: RulesInput) -> Rules:
            """The real lookup, from the settings this worker has now (a test may change
            them, as an operator changes a worker's)."""
            await script._enter()  # a test may hold it, as a slow worker would
            if script.settings is None:
                raise ApplicationError("a Script needs the worker's settings", non_retryable=True)
            return await WorkerRules(script.settings).environment_rules(request)

        @implements(contracts.plan_service)
        async def plan_service(request: PlanInput) -> ServiceSpec:
            await script._enter()
            result = parse_request(request.request_text)
            if result.spec is None:
                raise ApplicationError("unclear", result.questions, non_retryable=True)
            return result.spec

        @implements(contracts.scaffold_service)
        async def scaffold_service(request: ScaffoldInput) -> ScaffoldResult:
            await script._enter()
            script.scaffolded.append(request)
            spec = request.spec
            return ScaffoldResult(
                service=spec.name,
                version=spec.version,
                path="/nowhere",
                files=3,
                fingerprint="f" * 64,
                artifact=f"{spec.name}/v{spec.version}.tar.gz",
            )

        @implements(contracts.test_service)
        async def test_service(scaffold: ScaffoldResult) -> TestReport:
            await script._enter()
            return TestReport(passed=4, failed=0, duration_seconds=0.1)

        @implements(contracts.build_service_image)
        async def build_service_image(scaffold: ScaffoldResult) -> BuiltImage:
            await script._enter()
            return BuiltImage(image=f"{scaffold.service}:v{scaffold.version}", image_id="sha256:1")

        @implements(contracts.push_service_image)
        async def push_service_image(built: BuiltImage) -> str:
            await script._enter()
            return f"registry.local/{built.image}"

        @implements(contracts.deploy_service)
        async def deploy_service(request: DeployInput) -> DeployResult:
            await script._enter()
            script.deployed.append(request)
            return DeployResult(
                environment=request.environment,
                url=f"http://{request.service}.{request.environment}.local",
                container=f"{request.service}-{request.environment}",
            )

        @implements(contracts.verify_service)
        async def verify_service(deployed: DeployResult) -> None:
            await script._enter()

        @implements(contracts.describe_teardown)
        async def describe_teardown(request: TeardownInput) -> str:
            await script._enter()
            return f"the {request.database.value} database of {request.service}"

        @implements(contracts.tear_down_service)
        async def tear_down_service(request: TeardownInput) -> str:
            await script._enter()
            script.torn_down.append((request.service, request.environment))
            return f"{request.service} in {request.environment}"

        @implements(contracts.notify)
        async def notify(update: NotifyInput) -> NotifyResult:
            script.notified.append(update.status.state.value)
            return NotifyResult(card_ts=update.card_ts or "1.000001")

        fakes = {
            f.__name__: f
            for f in (
                plan_service,
                scaffold_service,
                test_service,
                build_service_image,
                push_service_image,
                deploy_service,
                verify_service,
                describe_teardown,
                tear_down_service,
                notify,
            )
        }
        stages = [fakes[c.__name__] for c in (*contracts.DELIVERY_STAGES, contracts.notify)]
        return [*stages, environment_rules]


def on_every_queue(
    client, task_queue: str, workflows=(), activities=(), activity_executor=None, **options
):
    """Workers for the workflows' queue and each kind's (workflows/queues.py), every one
    with all the given activities: a worker process with every role, in the test."""
    from cli.worker import WorkerGroup

    queues = [task_queue, *(queue_name(task_queue, kind) for kind in KINDS)]
    return WorkerGroup(
        [
            Worker(
                client,
                task_queue=queue,
                workflows=list(workflows) if queue == task_queue else [],
                activities=list(activities),
                activity_executor=activity_executor,
                **options,
            )
            for queue in queues
        ]
    )


def worker_with_slack(client, settings, script: Script, executor):
    """Scripted stages, with the real notify activity, Slack outbox and its sender."""
    from cli.worker import WORKFLOWS, slack_activities

    script.settings = script.settings or settings  # the worker's settings, for its rules
    stages = [a for a in script.activities() if a.__name__ != "notify"]
    return on_every_queue(
        client,
        settings.task_queue,
        WORKFLOWS,
        [*stages, *slack_activities(settings)],
        executor,
    )
