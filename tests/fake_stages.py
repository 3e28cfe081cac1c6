"""Stand-in stage activities under the real activity names, for testing workflow logic.

The project's real activities are tested on their own (with Docker); these let the
workflow tests script failures, slowness and cancellation on the real Temporal server.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.understanding import parse_request
from workflows.models import (
    BuiltImage,
    DeployInput,
    DeployResult,
    NotifyInput,
    NotifyResult,
    PlanInput,
    ScaffoldInput,
    ScaffoldResult,
    TestReport,
)
from workflows.spec import ServiceSpec


@dataclass
class Script:
    """What the fake stages do: fail N times for good, or block until released."""

    fail: Counter = field(default_factory=Counter)
    block: dict[str, asyncio.Event] = field(default_factory=dict)
    calls: Counter = field(default_factory=Counter)
    cancelled: list[str] = field(default_factory=list)
    notified: list[str] = field(default_factory=list)

    async def _enter(self, name: str) -> None:
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

    def activities(self) -> list:
        script = self

        @activity.defn(name="plan_service")
        async def plan_service(request: PlanInput) -> ServiceSpec:
            await script._enter("plan_service")
            result = parse_request(request.request_text)
            if result.spec is None:
                raise ApplicationError("unclear", result.questions, non_retryable=True)
            return result.spec

        @activity.defn(name="scaffold_service")
        async def scaffold_service(request: ScaffoldInput) -> ScaffoldResult:
            await script._enter("scaffold_service")
            spec = request.spec
            return ScaffoldResult(
                service=spec.name,
                version=spec.version,
                path="/nowhere",
                files=3,
                fingerprint="f" * 64,
            )

        @activity.defn(name="test_service")
        async def test_service(scaffold: ScaffoldResult) -> TestReport:
            await script._enter("test_service")
            return TestReport(passed=4, failed=0, duration_seconds=0.1)

        @activity.defn(name="build_service_image")
        async def build_service_image(scaffold: ScaffoldResult) -> BuiltImage:
            await script._enter("build_service_image")
            return BuiltImage(image=f"{scaffold.service}:v{scaffold.version}", image_id="sha256:1")

        @activity.defn(name="push_service_image")
        async def push_service_image(built: BuiltImage) -> str:
            await script._enter("push_service_image")
            return f"registry.local/{built.image}"

        @activity.defn(name="deploy_service")
        async def deploy_service(request: DeployInput) -> DeployResult:
            await script._enter("deploy_service")
            return DeployResult(
                environment=request.environment,
                url=f"http://{request.service}.{request.environment}.local",
                container=f"{request.service}-{request.environment}",
            )

        @activity.defn(name="verify_service")
        async def verify_service(deployed: DeployResult) -> None:
            await script._enter("verify_service")

        @activity.defn(name="notify")
        async def notify(update: NotifyInput) -> NotifyResult:
            script.notified.append(update.status.state.value)
            return NotifyResult(card_ts=update.card_ts or "1.000001")

        return [
            plan_service,
            scaffold_service,
            test_service,
            build_service_image,
            push_service_image,
            deploy_service,
            verify_service,
            notify,
        ]
