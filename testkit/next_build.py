"""Another build's delivery code, for the rolling-upgrade test: a new step before each
deploy, behind a patch of its own. It lives outside the test module so the workflow
sandbox can import it without the test's fixtures."""

from __future__ import annotations

from temporalio import workflow

from workflows import search
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import DeliveryRequest, DeliveryStatus

CHANGE = "rolling-upgrade-change"


@workflow.defn(name=search.DELIVERY_TYPE)
class DeliveryOfTheNextBuild(DeliveryWorkflow):
    @workflow.run
    async def run(self, request: DeliveryRequest) -> DeliveryStatus:
        return await super().run(request)

    async def _deploy(self, env: str, *args, **kwargs) -> None:
        if workflow.patched(CHANGE):
            workflow.logger.info("the next build deploys %s", env)
        await super()._deploy(env, *args, **kwargs)
