"""DeliveryWorkflow: one change, from request text to a verified deployment.

Deterministic orchestration only. Every side effect is an activity called by reference
to its contract (workflows.activity_contracts), so this module never imports docker,
boto3 or the network. The status the bot and the CLI show is always drawn from here,
through the `status` query.

A failed stage does not close the workflow at once: it waits for a `retry` or `cancel`
update (workflows.stage_runner). Approvals, cancel and retry are updates with
validators, so a refused click leaves nothing in the history. The parts the workflow
is made of (StageRunner, Gates, DeploySteps, UndoSteps) share one declared state,
workflows.delivery_run.Delivery, made in `@workflow.init`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import cast

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows import activity_contracts as contracts
    from workflows import search, stage_limits
    from workflows.approvals import (
        check_may_stop_or_retry,
        check_origin,
        check_requester_alone,
    )
    from workflows.data_loss import change_losses
    from workflows.delivery_run import Delivery
    from workflows.deploy_steps import DeploySteps
    from workflows.gates import Gates
    from workflows.models import (
        FINISHED,
        ApprovalDecision,
        Decision,
        DeliveryRequest,
        DeliveryState,
        DeliveryStatus,
        GateStatus,
        Operation,
        PersonAction,
        Stage,
        StageState,
    )
    from workflows.outbox_workflow import CARD_POSTED
    from workflows.patches import CHANGE_LOSSES, OVERLAPPED_STAGES, SERVICE_TOLD_IN_BACKGROUND
    from workflows.service_updates import ServiceUpdates
    from workflows.spec import DeployTarget, ServiceSpec
    from workflows.stage_models import BuiltImage, PlanInput, ScaffoldInput, ScaffoldResult
    from workflows.stage_runner import DeliveryCancelled, StageFailed, StageRunner
    from workflows.thread_updates import ThreadUpdates
    from workflows.undoing import UndoSteps

# The stages a delivery shows before its environments' gates.
FIRST_STAGES = {
    Operation.build: ("plan", "scaffold", "test", "build", "push"),
    Operation.roll_back: (),
    Operation.tear_down: ("plan",),
}


@workflow.defn(name=search.DELIVERY_TYPE)
class DeliveryWorkflow(UndoSteps, DeploySteps, StageRunner, Gates):
    @workflow.init
    def __init__(self, request: DeliveryRequest) -> None:
        self._delivery = Delivery(
            request=request,
            status=DeliveryStatus(
                delivery_id=workflow.info().workflow_id,
                requester=request.requester,
                service=request.service,
                stages=[Stage(name=n) for n in FIRST_STAGES[request.operation]],
                slack_channel=request.slack_channel,
                slack_thread_ts=request.slack_thread_ts,
            ),
            thread=ThreadUpdates(request.slack_channel, request.slack_thread_ts),
        )

    # What the bot, the CLI and the Temporal UI talk to.

    @workflow.query
    def status(self) -> DeliveryStatus:
        return self._delivery.status

    @workflow.signal(name=CARD_POSTED)
    def card_posted(self, card_ts: str) -> None:
        """The outbox posted this delivery's card: its buttons are the ones that count."""
        self._delivery.thread.card_ts = card_ts

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
        self._delivery.cancel = request
        return self._delivery.status

    @cancel.validator
    def _validate_cancel(self, request: PersonAction) -> None:
        status, cancel = self._delivery.status, self._delivery.cancel
        if status.state in FINISHED and not status.retry_possible:
            raise ValueError(f"this delivery has already ended ({status.state})")
        if cancel is not None:
            raise ValueError(f"<@{cancel.user}> has already cancelled this delivery")
        self._check_person(request, "cancel")

    @workflow.update
    def retry(self, request: PersonAction) -> DeliveryStatus:
        self._delivery.retry = request
        self._delivery.retry_clicks += 1
        return self._delivery.status

    @retry.validator
    def _validate_retry(self, request: PersonAction) -> None:
        status = self._delivery.status
        if not status.retry_possible or self._delivery.retry is not None:
            raise ValueError(f"only a failed delivery can be retried; this one is {status.state}")
        self._check_person(request, "retry")

    # The delivery itself.

    @workflow.run
    async def run(self, request: DeliveryRequest) -> DeliveryStatus:
        delivery, status = self._delivery, self._delivery.status
        workflow.upsert_search_attributes(
            search.values(
                requester=request.requester,
                service=request.service,
                channel=request.slack_channel,
                thread=request.slack_thread_ts,
            )
        )
        if request.slack_channel:
            self._notifier = asyncio.create_task(
                delivery.thread.keep_current(lambda: status, lambda: delivery.failures)
            )
        parent = workflow.info().parent
        if parent is not None:
            workflow.deprecate_patch(SERVICE_TOLD_IN_BACKGROUND)  # retired: see patches.py
            delivery.service = ServiceUpdates(parent.workflow_id)
            self._informer = asyncio.create_task(delivery.service.keep_current(lambda: status))
        await self._set_state(DeliveryState.running)
        try:
            await self._deliver(request)
        except StageFailed:
            await self._set_state(DeliveryState.failed)
            await self._flush()
            raise ApplicationError(
                status.error or "delivery failed", type="DeliveryFailed", non_retryable=True
            ) from None
        except DeliveryCancelled:
            self._mark_cancelled()
            await self._set_state(DeliveryState.cancelled)
            await self._flush()
            return status
        except asyncio.CancelledError:
            # Cancelled from outside (the Temporal UI, or the service superseding it).
            self._mark_cancelled()
            await self._set_state(DeliveryState.cancelled)
            await delivery.service.flush()
            raise
        if status.state in (DeliveryState.running, DeliveryState.waiting_for_approval):
            await self._set_state(DeliveryState.succeeded)
        await self._flush()
        return status

    async def _deliver(self, request: DeliveryRequest) -> None:
        if request.operation == Operation.roll_back:
            return await self._roll_back(request)
        if request.operation == Operation.tear_down:
            return await self._tear_down(request)
        spec = await self._plan(request)
        if request.base_spec is not None and workflow.patched(CHANGE_LOSSES):
            # said on the card before any gate, and confirmed at each, like a tear-down
            self._delivery.status.data_loss = change_losses(request.base_spec, spec)
        environments = [] if spec.deploy.target == DeployTarget.none else spec.deploy.environments
        await self._add_gates(environments)
        workflow.upsert_search_attributes(
            [search.SERVICE.value_set(spec.name), search.ENVIRONMENT.value_set(environments)]
        )
        built, pushed = await self._build(spec, request)
        for env in environments:
            if not await self._gate(env):
                return
            await self._deploy(env, spec, built.image, pushed)

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
            planned = self._stage("plan")
            planned.state, planned.detail = StageState.succeeded, "planned in the conversation"
        spec = spec.model_copy(
            update={"version": request.version, "name": request.service or spec.name}
        )
        status = self._delivery.status
        status.spec, status.service, status.version = spec, spec.name, spec.version
        return spec

    async def _build(self, spec: ServiceSpec, request: DeliveryRequest) -> tuple[BuiltImage, str]:
        """Scaffold, test, build and push: everything before the first gate."""
        scaffold = await self._run_stage(
            "scaffold",
            contracts.scaffold_service,
            ScaffoldInput(
                spec=spec,
                request_text=request.request_text[:500],
                requester=request.requester,
                earlier_repository=request.repository,
                fixes=request.fixes,
            ),
            timeout=stage_limits.SCAFFOLD,
        )
        self._stage("scaffold").detail = "; ".join([f"{scaffold.files} files", *scaffold.notes])
        self._delivery.status.repository = scaffold.artifact
        # The tests and the runtime image need only the scaffold, and a push only the
        # image: they run side by side.
        workflow.deprecate_patch(OVERLAPPED_STAGES)  # retired: see patches.py
        _, built_and_pushed = await self._side_by_side(
            self._test(scaffold), self._build_and_push(scaffold)
        )
        return cast(tuple[BuiltImage, str], built_and_pushed)

    async def _test(self, scaffold: ScaffoldResult) -> None:
        report = await self._run_long_stage("test", contracts.test_service, scaffold)
        self._delivery.status.test_summary = self._stage("test").detail = report.summary()

    async def _build_and_push(self, scaffold: ScaffoldResult) -> tuple[BuiltImage, str]:
        built = await self._run_long_stage("build", contracts.build_service_image, scaffold)
        self._delivery.status.image = built.image
        pushed = await self._run_long_stage("push", contracts.push_service_image, built)
        self._stage("push").detail = pushed
        return built, pushed

    def _check_person(self, person: PersonAction, verb: str) -> None:
        request = self._delivery.request
        check_origin(person, request.slack_channel, self._delivery.thread.card_ts)
        if not self._delivery.rules_known:  # the caller's rules would decide: nobody's do
            check_requester_alone(person, request.requester, verb)
            return
        check_may_stop_or_retry(person, request.requester, request.policies, request.access, verb)

    def _mark_cancelled(self) -> None:
        status, cancel = self._delivery.status, self._delivery.cancel
        who = f"<@{cancel.user}>" if cancel else "the workflow engine"
        status.error = f"cancelled by {who}"
        if cancel:
            status.record(cancel, Decision.cancelled, workflow.now())
        status.stop_unfinished_stages(workflow.now())
