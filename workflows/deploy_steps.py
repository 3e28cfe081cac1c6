"""Deploying one version to one environment and checking that it answers.

A part of DeliveryWorkflow shared by the build (a new version) and the roll back (an
earlier one): deploy, verify, and record the deployment with who asked and who
approved. The service entity hears of it before the thread does.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import activity_contracts as contracts
    from workflows import stage_limits
    from workflows.event_spec import Sink
    from workflows.models import Deployment
    from workflows.spec import Auth, ServiceSpec
    from workflows.stage_models import DeployInput
    from workflows.stage_runner import StageRunner


class DeploySteps(StageRunner):
    """Part of DeliveryWorkflow: the deploy and verify stages of one environment."""

    async def _deploy(
        self,
        env: str,
        spec: ServiceSpec,
        image: str,
        pushed: str,
        migrate_down_with: str | None = None,
        rolled_back_from: int | None = None,
    ) -> None:
        gate = self._gate_for(env)
        approved_by = list(gate.approvals) if gate else []  # decided before the deploy
        deploy = DeployInput(
            service=spec.name,
            environment=env,
            image=image,
            target=spec.deploy.target,
            pushed_image=pushed,
            publishes_events=any(event.sink == Sink.sqs for event in spec.events),
            event_sinks=sorted({event.sink.value for event in spec.events}),
            consumes=sorted({consumer.publisher for consumer in spec.consumers}),
            consumer_sinks=sorted({consumer.sink.value for consumer in spec.consumers}),
            database=spec.database,
            oidc=spec.auth == Auth.oidc,
            version=spec.version,
            migrate_down_with=migrate_down_with,
            # the worker checks these against its own rules before it deploys
            requester=self._delivery.request.requester,
            approved_by=approved_by,
        )
        deployed = await self._run_long_stage(
            f"deploy {env}",
            contracts.deploy_service,
            deploy,
            at_least=stage_limits.DEPLOY_AT_LEAST.get(deploy.target, timedelta(0)),
        )
        self._stage(f"deploy {env}").detail = deployed.url
        await self._run_stage(
            f"verify {env}",
            contracts.verify_service,
            deployed,
            timeout=stage_limits.VERIFY,  # an ECS rollout takes minutes
            heartbeat=timedelta(seconds=30),
        )
        status = self._delivery.status
        status.deployments.append(
            Deployment(
                environment=env,
                url=deployed.url,
                image=image,
                pushed_image=pushed,
                rolled_back_from=rolled_back_from,
                version=spec.version,
                delivery_id=status.delivery_id,
                requested_by=self._delivery.request.requester,
                approved_by=approved_by,
                at=workflow.now(),
            )
        )
        await self._report(deployments_changed=True)
