"""The approval rules of a gate: pure functions the DeliveryWorkflow's validators call.

Nobody ships to prod alone: who may approve, how many must, and whether the requester
counts are decided here, before anything is written to the workflow's history.
"""

from __future__ import annotations

from datetime import datetime

from workflows.models import (
    ApprovalDecision,
    ApprovalPolicy,
    AuditEntry,
    Decision,
    GateState,
    GateStatus,
)


class DecisionNotAllowed(ValueError):
    """A click or command the gate refuses; the message is shown to that person only."""


def check_decision(
    gate: GateStatus | None,
    policy: ApprovalPolicy,
    requester: str,
    decision: ApprovalDecision,
    *,
    approving: bool,
) -> None:
    if gate is None:
        raise DecisionNotAllowed(f"this delivery does not deploy to {decision.environment}")
    if gate.state != GateState.open:
        state = "waiting for earlier stages" if gate.state == GateState.pending else gate.state
        raise DecisionNotAllowed(f"the {gate.environment} gate is {state}, not open")
    if policy.approvers and decision.user not in policy.approvers:
        raise DecisionNotAllowed(
            f"<@{decision.user}> is not allowed to approve {gate.environment} deploys"
        )
    if decision.user == requester and not policy.requester_may_approve:
        raise DecisionNotAllowed(
            f"you requested this change, so someone else must approve {gate.environment}"
        )
    if approving and decision.user in gate.approvals:
        raise DecisionNotAllowed(f"you have already approved {gate.environment}")


def apply_decision(
    gate: GateStatus, decision: ApprovalDecision, *, approving: bool, at: datetime
) -> AuditEntry:
    """Record the decision on the gate and return its audit entry."""
    if not approving:
        gate.state = GateState.rejected
    else:
        gate.approvals.append(decision.user)
        if len(gate.approvals) >= gate.required_approvals:
            gate.state = GateState.approved
    return AuditEntry(
        user=decision.user,
        environment=decision.environment,
        decision=Decision.approved if approving else Decision.rejected,
        reason=decision.reason,
        at=at,
    )
