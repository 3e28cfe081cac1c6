"""How a delivery waits at an environment's gate and takes the decisions made on it.

A part of DeliveryWorkflow (Gates) beside StageRunner, so the workflow module reads
as its stages. The rules (who may decide, what counts) live in workflows.approvals;
this is the waiting: reminders, expiry, cancel, and the decision's effect on the card.
The commands it issues are the same as before the move: the kept histories of
tests/workflows/test_replay.py hold it to that.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows import activity_contracts as contracts
    from workflows.approvals import (
        DecisionNotAllowed,
        apply_decision,
        check_decision,
        check_origin,
    )
    from workflows.data_loss import refusal
    from workflows.delivery_run import DeliveryBase
    from workflows.models import (
        ApprovalDecision,
        DeliveryState,
        GateState,
        GateStatus,
        StageState,
    )
    from workflows.patches import REMINDER, RULES_FROM_WORKER
    from workflows.queues import queue_for
    from workflows.stage_models import RulesInput
    from workflows.stage_runner import DeliveryCancelled, StageFailed


# How long a delivery waits for a worker to say its rules before failing closed.
RULES_WAIT = timedelta(minutes=10)


class Gates(DeliveryBase):
    """Part of DeliveryWorkflow: waits at each environment's gate and takes its decisions."""

    async def _add_gates(self, environments: list[str], steps=("deploy", "verify")) -> None:
        """The environments' gates, under the rules the worker's settings give (not the
        ones the caller sent); a requester those settings do not allow is refused here.
        Deliveries started before went by their caller's rules."""
        request, status = self._delivery.request, self._delivery.status
        if workflow.patched(RULES_FROM_WORKER):
            asked = workflow.start_activity(
                contracts.environment_rules,
                RulesInput(environments=environments),
                task_queue=queue_for("environment_rules"),
                start_to_close_timeout=timedelta(seconds=30),
                schedule_to_close_timeout=RULES_WAIT,
                retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=10)),
            )
            # its requester may cancel while no worker answers (up to RULES_WAIT)
            await workflow.wait_condition(lambda: asked.done() or self._delivery.cancel is not None)
            if not asked.done():
                asked.cancel()
                raise DeliveryCancelled()
            try:
                rules = asked.result()
            except ActivityError:
                status.error = "no worker could say this delivery's rules in time; ask again"
                raise StageFailed() from None
            request.policies, request.access = rules.policies, rules.access
            if not rules.access.may_request(request.requester):
                status.error = (
                    f"refused by this worker's rules: <@{request.requester}> may not ask for "
                    "builds or changes (SHIPMATE_DEVELOPERS)."
                )
                raise StageFailed()
        for env in environments:
            status.add_environment(env, self._policy(env), steps=steps)
        self._delivery.rules_known = True

    async def _gate(self, env: str) -> bool:
        """Wait for the environment's approvals; False when rejected or expired."""
        stage, gate, policy = self._stage(f"approve {env}"), self._gate_for(env), self._policy(env)
        delivery, status = self._delivery, self._delivery.status
        stage.started_at = workflow.now()
        if not policy.gate:
            if status.data_loss:  # a loss nobody can confirm: refused, as a plain approval is
                stage.state, stage.finished_at = StageState.failed, workflow.now()
                status.error = refusal(status.service or "", env, status.data_loss, status.changing)
                raise StageFailed()
            gate.state, stage.state = GateState.skipped, StageState.skipped
            return True
        if not policy.has_approvers:  # fail closed: a gate nobody may open stops here
            stage.state, stage.finished_at = StageState.failed, workflow.now()
            status.error = policy.missing_approvers(env)
            raise StageFailed()
        gate.state, stage.state = GateState.open, StageState.waiting
        gate.expires_at = workflow.now() + timedelta(seconds=policy.timeout_seconds)
        await self._set_state(DeliveryState.waiting_for_approval)
        decided, waited = False, 0.0
        remind_after = policy.timeout_seconds - policy.remind_before_seconds
        if policy.remind_before_seconds > 0 and remind_after > 0:
            workflow.deprecate_patch(REMINDER)  # retired: see patches.py
            decided, waited = await self._decided_within(gate, remind_after), remind_after
            if not decided:
                gate.reminded = True
                delivery.thread.changed()
        if not decided and not await self._decided_within(gate, policy.timeout_seconds - waited):
            gate.state = GateState.expired
        stage.finished_at = workflow.now()
        if delivery.cancel is not None and gate.state == GateState.open:
            gate.state, stage.state = GateState.cancelled, StageState.cancelled
            raise DeliveryCancelled()
        if gate.state == GateState.approved:
            stage.state = StageState.succeeded
            await self._set_state(DeliveryState.running)
            return True
        stage.state = StageState.cancelled
        if gate.state == GateState.rejected:
            # What people wrote stays in the audit trail (ending_reason), out of Shipmate's
            # own sentences, so every view can escape it.
            status.error = f"{env} deploy rejected by <@{status.audit[-1].user}>"
            await self._set_state(DeliveryState.rejected)
        else:
            hours = policy.timeout_seconds / 3600
            status.error = f"approval for {env} expired after {hours:g} h without a decision"
            await self._set_state(DeliveryState.expired)
        return False

    async def _decided_within(self, gate: GateStatus, seconds: float) -> bool:
        """Whether the gate was decided (or the delivery cancelled) within `seconds`."""
        delivery = self._delivery
        try:
            await workflow.wait_condition(
                lambda: gate.state != GateState.open or delivery.cancel is not None,
                timeout=timedelta(seconds=seconds),
            )
        except TimeoutError:
            return False
        return True

    def _check(self, decision: ApprovalDecision, *, approving: bool) -> None:
        delivery = self._delivery
        check_origin(decision, delivery.request.slack_channel, delivery.thread.card_ts)
        check_decision(
            self._gate_for(decision.environment),
            self._policy(decision.environment),
            delivery.request.requester,
            decision,
            approving=approving,
        )
        status = delivery.status
        if approving and status.data_loss and not decision.accepts_data_loss:
            service = status.service or ""
            raise DecisionNotAllowed(
                refusal(service, decision.environment, status.data_loss, status.changing)
            )

    def _decide(self, decision: ApprovalDecision, *, approving: bool) -> GateStatus:
        gate = self._gate_for(decision.environment)
        entry = apply_decision(gate, decision, approving=approving, at=workflow.now())
        self._delivery.status.audit.append(entry)
        # "1 of 2 approvals" belongs on the card though the gate stays open.
        self._delivery.thread.changed()
        return gate
