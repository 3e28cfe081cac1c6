"""DeliveryWorkflow: one change, from request text to a verified deployment.

Deterministic orchestration only. Every side effect is an activity called by reference
to its contract (workflows.activity_contracts), so this module never imports docker,
boto3 or the network. The status the bot and the CLI show is always drawn from here,
through the `status` query.

A failed stage does not close the workflow at once: it waits for a `retry` or `cancel`
update (workflows.stage_runner, mixed in as StageRunner). Approvals, cancel and retry
are updates with validators, so a refused click leaves nothing in the history.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows import activity_contracts as contracts
    from workflows import search
    from workflows.approvals import (
        check_may_stop_or_retry,
        check_origin,
    )
    from workflows.gates import Gates
    from workflows.models import (
        DELIVERY_CHANGED,
        FINISHED,
        ApprovalDecision,
        ApprovalPolicy,
        BuiltImage,
        Decision,
        DeliveryRequest,
        DeliveryState,
        DeliveryStatus,
        DeployInput,
        Deployment,
        GateStatus,
        Operation,
        PersonAction,
        PlanInput,
        ScaffoldInput,
        ScaffoldResult,
        Stage,
        StageState,
    )
    from workflows.outbox_workflow import CARD_POSTED
    from workflows.service_updates import SERVICE_TOLD_IN_BACKGROUND, ServiceUpdates
    from workflows.spec import DeployTarget, ServiceSpec
    from workflows.stage_runner import DeliveryCancelled, StageFailed, StageRunner
    from workflows.thread_updates import ThreadUpdates
    from workflows.undoing import UndoSteps

# The patch (workflow.patched) behind which test and build+push run side by side.
OVERLAPPED_STAGES = "test-beside-build"

# The stages a delivery shows before its environments' gates.
FIRST_STAGES = {
    Operation.build: ("plan", "scaffold", "test", "build", "push"),
    Operation.roll_back: (),
    Operation.tear_down: ("plan",),
}


@workflow.defn(name=search.DELIVERY_TYPE)
class DeliveryWorkflow(StageRunner, Gates, UndoSteps):
    def __init__(self) -> None:
        self._status = DeliveryStatus(delivery_id="", requester="")
        self._request = DeliveryRequest(request_text="")
        self._cancel: PersonAction | None = None
        self._retry: PersonAction | None = None
        self._thread = ThreadUpdates(None, None)
        self._service = ServiceUpdates(None)  # stays empty for deliveries that wait instead
        self._failures = 0

    # What the bot, the CLI and the Temporal UI talk to.

    @workflow.query
    def status(self) -> DeliveryStatus:
        return self._status

    @workflow.signal(name=CARD_POSTED)
    def card_posted(self, card_ts: str) -> None:
        """The outbox posted this delivery's card: its buttons are the ones that count."""
        self._thread.card_ts = card_ts

    @workflow.update
    def approve(self, decision: ApprovalDecision) -> GateStatus:
        return self._decide(decision, approving=True)

    @approve.validator
    def _validate_approve(self, decision: ApprovalDecision) -> None:
        self._check(decision, approving=True)

    @workflow.update
    def reject(self, decision: ApprovalDecision) -> GateStatus:
        return self._decide(decision, approving=False)

    @reject.validator
    def _validate_reject(self, decision: ApprovalDecision) -> None:
        self._check(decision, approving=False)

    @workflow.update
    def cancel(self, request: PersonAction) -> DeliveryStatus:
        self._cancel = request
        return self._status

    @cancel.validator
    def _validate_cancel(self, request: PersonAction) -> None:
        if self._status.state in FINISHED and not self._status.retry_possible:
            raise ValueError(f"this delivery has already ended ({self._status.state})")
        if self._cancel is not None:
            raise ValueError(f"<@{self._cancel.user}> has already cancelled this delivery")
        self._check_person(request, "cancel")

    @workflow.update
    def retry(self, request: PersonAction) -> DeliveryStatus:
        self._retry = request
        self._retry_clicks += 1
        return self._status

    @retry.validator
    def _validate_retry(self, request: PersonAction) -> None:
        if not self._status.retry_possible or self._retry is not None:
            raise ValueError(
                f"only a failed delivery can be retried; this one is {self._status.state}"
            )
        self._check_person(request, "retry")

    # The delivery itself.

    @workflow.run
    async def run(self, request: DeliveryRequest) -> DeliveryStatus:
        self._request = request
        self._status = DeliveryStatus(
            delivery_id=workflow.info().workflow_id,
            requester=request.requester,
            service=request.service,
            stages=[Stage(name=n) for n in FIRST_STAGES[request.operation]],
            slack_channel=request.slack_channel,
            slack_thread_ts=request.slack_thread_ts,
        )
        workflow.upsert_search_attributes(
            search.values(
                requester=request.requester,
                service=request.service,
                channel=request.slack_channel,
                thread=request.slack_thread_ts,
            )
        )
        self._thread = ThreadUpdates(request.slack_channel, request.slack_thread_ts)
        if request.slack_channel:
            self._notifier = asyncio.create_task(
                self._thread.keep_current(lambda: self._status, lambda: self._failures)
            )
        parent = workflow.info().parent
        if parent is not None and workflow.patched(SERVICE_TOLD_IN_BACKGROUND):
            self._service = ServiceUpdates(parent.workflow_id)
            self._informer = asyncio.create_task(self._service.keep_current(lambda: self._status))
        await self._set_state(DeliveryState.running)
        try:
            await self._deliver(request)
        except StageFailed:
            await self._set_state(DeliveryState.failed)
            await self._flush()
            raise ApplicationError(
                self._status.error or "delivery failed", type="DeliveryFailed", non_retryable=True
            ) from None
        except DeliveryCancelled:
            self._mark_cancelled()
            await self._set_state(DeliveryState.cancelled)
            await self._flush()
            return self._status
        except asyncio.CancelledError:
            # Cancelled from outside (the Temporal UI, or the service superseding it).
            self._mark_cancelled()
            await self._set_state(DeliveryState.cancelled)
            await self._service.flush()
            raise
        if self._status.state in (DeliveryState.running, DeliveryState.waiting_for_approval):
            await self._set_state(DeliveryState.succeeded)
        await self._flush()
        return self._status

    async def _deliver(self, request: DeliveryRequest) -> None:
        if request.operation == Operation.roll_back:
            return await self._roll_back(request)
        if request.operation == Operation.tear_down:
            return await self._tear_down(request)
        spec = await self._plan(request)
        environments = [] if spec.deploy.target == DeployTarget.none else spec.deploy.environments
        for env in environments:
            self._status.add_environment(env, self._policy(env))
        workflow.upsert_search_attributes(
            [search.SERVICE.value_set(spec.name), search.ENVIRONMENT.value_set(environments)]
        )
        built, pushed = await self._build(spec, request)
        for env in environments:
            if not await self._gate(env):
                return
            await self._deploy(env, spec, built.image, pushed)

    def _long_stage(self) -> dict:
        timeouts = self._request.timeouts
        return {
            "timeout": timedelta(minutes=timeouts.build_minutes),
            "heartbeat": timedelta(seconds=timeouts.heartbeat_seconds),
        }

    async def _plan(self, request: DeliveryRequest) -> ServiceSpec:
        """The spec planned in the conversation, or (for a request without one) planned now."""
        spec = request.spec
        if spec is None:
            plan = PlanInput(
                request_text=request.request_text,
                requester=request.requester,
                base_spec=request.base_spec,
            )
            spec = await self._run_stage(
                "plan", contracts.plan_service, plan, timeout=timedelta(minutes=2)
            )
        else:
            plan = self._stage("plan")
            plan.state, plan.detail = StageState.succeeded, "planned in the conversation"
        spec = spec.model_copy(
            update={"version": request.version, "name": request.service or spec.name}
        )
        self._status.spec, self._status.service = spec, spec.name
        self._status.version = spec.version
        return spec

    async def _build(self, spec: ServiceSpec, request: DeliveryRequest) -> tuple[BuiltImage, str]:
        """Scaffold, test, build and push: everything before the first gate."""
        scaffold = await self._run_stage(
            "scaffold",
            contracts.scaffold_service,
            ScaffoldInput(
                spec=spec, request_text=request.request_text[:500], requester=request.requester
            ),
            timeout=timedelta(minutes=2),
        )
        self._stage("scaffold").detail = f"{scaffold.files} files"
        # The tests and the runtime image need only the scaffold, and a push only the
        # image: they run side by side. Deliveries started before that run in sequence.
        if workflow.patched(OVERLAPPED_STAGES):
            _, (built, pushed) = await self._side_by_side(
                self._test(scaffold), self._build_and_push(scaffold)
            )
            return built, pushed
        await self._test(scaffold)
        return await self._build_and_push(scaffold)

    async def _test(self, scaffold: ScaffoldResult) -> None:
        long_stage = self._long_stage()
        report = await self._run_stage("test", contracts.test_service, scaffold, **long_stage)
        self._status.test_summary = self._stage("test").detail = report.summary()

    async def _build_and_push(self, scaffold: ScaffoldResult) -> tuple[BuiltImage, str]:
        long_stage = self._long_stage()
        built = await self._run_stage(
            "build", contracts.build_service_image, scaffold, **long_stage
        )
        self._status.image = built.image
        pushed = await self._run_stage("push", contracts.push_service_image, built, **long_stage)
        self._stage("push").detail = pushed
        return built, pushed

    async def _deploy(
        self,
        env: str,
        spec: ServiceSpec,
        image: str,
        pushed: str,
        migrate_down_with: str | None = None,
        rolled_back_from: int | None = None,
    ) -> None:
        deploy = DeployInput(
            service=spec.name,
            environment=env,
            image=image,
            target=spec.deploy.target,
            pushed_image=pushed,
            publishes_events=bool(spec.events),
            database=spec.database,
            version=spec.version,
            migrate_down_with=migrate_down_with,
        )
        deployed = await self._run_stage(
            f"deploy {env}", contracts.deploy_service, deploy, **self._long_stage()
        )
        self._stage(f"deploy {env}").detail = deployed.url
        await self._run_stage(
            f"verify {env}",
            contracts.verify_service,
            deployed,
            timeout=timedelta(minutes=12),  # an ECS rollout takes minutes
            heartbeat=timedelta(seconds=30),
        )
        self._status.deployments.append(
            Deployment(
                environment=env,
                url=deployed.url,
                image=image,
                pushed_image=pushed,
                rolled_back_from=rolled_back_from,
                version=spec.version,
                delivery_id=self._status.delivery_id,
                requested_by=self._request.requester,
                approved_by=list(self._gate_for(env).approvals),
                at=workflow.now(),
            )
        )
        await self._report(deployments_changed=True)

    def _check_person(self, person: PersonAction, verb: str) -> None:
        check_origin(person, self._request.slack_channel, self._thread.card_ts)
        check_may_stop_or_retry(
            person, self._request.requester, self._request.policies, self._request.access, verb
        )

    # Bookkeeping.

    def _mark_cancelled(self) -> None:
        who = f"<@{self._cancel.user}>" if self._cancel else "the workflow engine"
        self._status.error = f"cancelled by {who}"
        if self._cancel:
            self._status.record(self._cancel, Decision.cancelled, workflow.now())
        self._status.stop_unfinished_stages(workflow.now())

    async def _set_state(self, state: DeliveryState) -> None:
        self._status.state = state
        workflow.upsert_search_attributes([search.STATE.value_set(state.value)])
        await self._report()

    async def _report(self, deployments_changed: bool = False) -> None:
        """Tell the service entity and the Slack thread soon (both coalesce changes).
        A change to what is deployed where reaches the service before the thread hears
        of it: the reply that says so asks the service what it could roll back to.
        Deliveries started before the service was told in the background wait for it
        every time."""
        parent = workflow.info().parent
        if self._service.service_workflow_id:
            self._service.changed()
            if deployments_changed:
                await self._service.flush()
        elif parent is not None:
            try:
                await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                    DELIVERY_CHANGED, self._status
                )
            except Exception:  # the service may be rolling over; it re-reads us when back
                workflow.logger.warning("could not tell %s about a change", parent.workflow_id)
        self._thread.changed()

    async def _flush(self) -> None:
        """Before the delivery ends: the service and the thread have its last status."""
        await self._service.flush()
        await self._thread.flush()

    def _policy(self, env: str) -> ApprovalPolicy:
        return self._request.policies.get(env, ApprovalPolicy())

    def _stage(self, name: str) -> Stage:
        return self._status.stage(name)

    def _gate_for(self, env: str) -> GateStatus:
        return self._status.gate(env)
