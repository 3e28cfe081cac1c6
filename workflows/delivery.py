"""DeliveryWorkflow: one change, from request text to a verified deployment.

Deterministic orchestration only. Every side effect is an activity called by name, so
this module never imports docker, boto3 or the network. The status the bot and the
CLI show is always drawn from here, through the `status` query.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.models import (
        ApprovalDecision,
        ApprovalPolicy,
        AuditEntry,
        BuiltImage,
        DeliveryRequest,
        DeliveryState,
        DeliveryStatus,
        DeployInput,
        Deployment,
        DeployResult,
        GateStatus,
        PlanInput,
        ScaffoldResult,
        Stage,
        StageState,
        TestReport,
    )
    from workflows.spec import DeployTarget, ServiceSpec

TRANSIENT = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
)


class StageFailed(Exception):
    """Internal: a stage failed for good; the status already says why."""


@workflow.defn(name="DeliveryWorkflow")
class DeliveryWorkflow:
    def __init__(self) -> None:
        self._status = DeliveryStatus(delivery_id="", requester="")
        self._policies: dict[str, ApprovalPolicy] = {}
        self._requester = ""

    # Queries and updates: what the bot, the CLI and the Temporal UI talk to.

    @workflow.query
    def status(self) -> DeliveryStatus:
        return self._status

    @workflow.update
    def approve(self, decision: ApprovalDecision) -> GateStatus:
        return self._decide(decision, approve=True)

    @approve.validator
    def _validate_approve(self, decision: ApprovalDecision) -> None:
        self._check_decision(decision, approving=True)

    @workflow.update
    def reject(self, decision: ApprovalDecision) -> GateStatus:
        return self._decide(decision, approve=False)

    @reject.validator
    def _validate_reject(self, decision: ApprovalDecision) -> None:
        self._check_decision(decision, approving=False)

    # The delivery itself.

    @workflow.run
    async def run(self, request: DeliveryRequest) -> DeliveryStatus:
        info = workflow.info()
        self._requester = request.requester
        self._policies = request.policies
        self._status = DeliveryStatus(
            delivery_id=info.workflow_id,
            requester=request.requester,
            stages=[Stage(name=n) for n in ("plan", "scaffold", "test", "build", "push")],
        )
        try:
            await self._deliver(request)
        except StageFailed:
            self._status.state = DeliveryState.failed
            raise ApplicationError(
                self._status.error or "delivery failed", type="DeliveryFailed", non_retryable=True
            ) from None
        if self._status.state == DeliveryState.running:
            self._status.state = DeliveryState.succeeded
        return self._status

    async def _deliver(self, request: DeliveryRequest) -> None:
        spec = request.spec
        if spec is None:
            spec = await self._run_stage(
                "plan",
                "plan_service",
                PlanInput(request_text=request.request_text, requester=request.requester),
                ServiceSpec,
                timeout=timedelta(minutes=2),
            )
        else:
            self._stage("plan").state = StageState.skipped
        self._status.service = spec.name
        self._status.version = spec.version
        environments = [] if spec.deploy.target == DeployTarget.none else spec.deploy.environments
        for env in environments:
            self._status.stages += [
                Stage(name=f"{kind} {env}") for kind in ("approve", "deploy", "verify")
            ]
            policy = self._policies.get(env, ApprovalPolicy())
            self._status.gates.append(
                GateStatus(
                    environment=env,
                    required_approvals=policy.required_approvals,
                    approvers=policy.approvers,
                )
            )

        scaffold = await self._run_stage(
            "scaffold", "scaffold_service", spec, ScaffoldResult, timeout=timedelta(minutes=2)
        )
        self._stage("scaffold").detail = f"{scaffold.files} files"
        report = await self._run_stage(
            "test",
            "test_service",
            scaffold,
            TestReport,
            timeout=timedelta(minutes=20),
            heartbeat=timedelta(minutes=2),
        )
        self._status.test_summary = report.summary()
        self._stage("test").detail = report.summary()
        built = await self._run_stage(
            "build",
            "build_service_image",
            scaffold,
            BuiltImage,
            timeout=timedelta(minutes=20),
            heartbeat=timedelta(minutes=2),
        )
        self._status.image = built.image
        pushed = await self._run_stage(
            "push",
            "push_service_image",
            built,
            str,
            timeout=timedelta(minutes=10),
            heartbeat=timedelta(minutes=2),
        )
        self._stage("push").detail = pushed

        for env in environments:
            if not await self._gate(env):
                return
            deployed = await self._run_stage(
                f"deploy {env}",
                "deploy_service",
                DeployInput(service=spec.name, environment=env, image=built.image),
                DeployResult,
                timeout=timedelta(minutes=5),
            )
            await self._run_stage(
                f"verify {env}",
                "verify_service",
                deployed,
                type(None),
                timeout=timedelta(minutes=3),
                heartbeat=timedelta(seconds=30),
            )
            self._stage(f"deploy {env}").detail = deployed.url
            self._status.deployments.append(
                Deployment(
                    environment=env,
                    url=deployed.url,
                    image=built.image,
                    version=spec.version,
                    approved_by=self._gate_for(env).approvals,
                )
            )

    async def _run_stage(self, name, activity, arg, result_type, *, timeout, heartbeat=None):
        stage = self._stage(name)
        stage.state = StageState.running
        stage.started_at = workflow.now()
        try:
            result = await workflow.execute_activity(
                activity,
                arg,
                result_type=result_type,
                start_to_close_timeout=timeout,
                heartbeat_timeout=heartbeat,
                retry_policy=TRANSIENT,
            )
        except ActivityError as err:
            stage.state = StageState.failed
            stage.finished_at = workflow.now()
            cause = err.cause
            message = str(cause.message if isinstance(cause, ApplicationError) else cause or err)
            self._status.error = f"{name} failed: {message}"
            if isinstance(cause, ApplicationError) and cause.details:
                detail = cause.details[0]
                self._status.log_tail = detail if isinstance(detail, str) else "\n".join(detail)
            raise StageFailed() from None
        stage.state = StageState.succeeded
        stage.finished_at = workflow.now()
        return result

    async def _gate(self, env: str) -> bool:
        """Wait for the environment's approvals; False when rejected or expired."""
        stage = self._stage(f"approve {env}")
        gate = self._gate_for(env)
        policy = self._policies.get(env, ApprovalPolicy())
        stage.started_at = workflow.now()
        if not policy.gate:
            gate.state, stage.state = "skipped", StageState.skipped
            return True
        gate.state, stage.state = "open", StageState.waiting
        self._status.state = DeliveryState.waiting_for_approval
        try:
            await workflow.wait_condition(
                lambda: gate.state != "open", timeout=timedelta(seconds=policy.timeout_seconds)
            )
        except TimeoutError:
            gate.state = "expired"
        stage.finished_at = workflow.now()
        if gate.state == "approved":
            stage.state = StageState.succeeded
            self._status.state = DeliveryState.running
            return True
        stage.state = StageState.cancelled
        self._status.state = (
            DeliveryState.rejected if gate.state == "rejected" else DeliveryState.expired
        )
        last = self._status.audit[-1] if gate.state == "rejected" else None
        self._status.error = (
            f"{env} deploy rejected by {last.user}: {last.reason or 'no reason given'}"
            if last
            else f"approval for {env} expired after {policy.timeout_seconds / 3600:g} h"
        )
        return False

    # Approval rules, enforced in the validators so a refused click leaves no history.

    def _check_decision(self, decision: ApprovalDecision, *, approving: bool) -> None:
        gate = next((g for g in self._status.gates if g.environment == decision.environment), None)
        if gate is None:
            raise ValueError(f"this delivery does not deploy to {decision.environment}")
        if gate.state != "open":
            raise ValueError(f"the {decision.environment} gate is {gate.state}, not open")
        policy = self._policies.get(decision.environment, ApprovalPolicy())
        if policy.approvers and decision.user not in policy.approvers:
            raise ValueError(f"<@{decision.user}> may not approve {decision.environment} deploys")
        if decision.user == self._requester and not policy.requester_may_approve:
            raise ValueError(
                f"you requested this change, so someone else must approve {decision.environment}"
            )
        if approving and decision.user in gate.approvals:
            raise ValueError("you have already approved this gate")

    def _decide(self, decision: ApprovalDecision, *, approve: bool) -> GateStatus:
        gate = self._gate_for(decision.environment)
        self._status.audit.append(
            AuditEntry(
                user=decision.user,
                environment=decision.environment,
                decision="approved" if approve else "rejected",
                reason=decision.reason,
                at=workflow.now(),
            )
        )
        if not approve:
            gate.state = "rejected"
        else:
            gate.approvals.append(decision.user)
            if len(gate.approvals) >= gate.required_approvals:
                gate.state = "approved"
        return gate

    def _stage(self, name: str) -> Stage:
        return next(stage for stage in self._status.stages if stage.name == name)

    def _gate_for(self, env: str) -> GateStatus:
        return next(gate for gate in self._status.gates if gate.environment == env)
