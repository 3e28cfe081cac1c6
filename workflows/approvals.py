"""Who may decide what: pure functions the DeliveryWorkflow's validators call.

Nobody ships to prod alone: who may approve, how many must, and whether the requester
counts are decided here, before anything is written to the workflow's history. Cancel
and retry belong to the requester, the delivery's approvers and Shipmate's admins.
"""

from __future__ import annotations

from datetime import datetime

from workflows.access import AccessPolicy, ApprovalDecision, ApprovalPolicy, Origin, PersonAction
from workflows.models import AuditEntry, Decision, GateState, GateStatus

MAX_REASON = 1000  # what a person writes stays in the history; Slack's modal allows 500


class DecisionNotAllowed(ValueError):
    """A click or command the gate refuses; the message is shown to that person only."""


class CardNotReady(DecisionNotAllowed):
    """A click in the instant between the outbox posting a card and the delivery learning
    where it is: the bot asks again shortly rather than judging the click blind."""


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
    if not policy.allows(decision):  # fails closed: no approvers means nobody may
        verb = "approve" if approving else "reject"
        raise DecisionNotAllowed(
            f"<@{decision.user}> is not allowed to {verb} {gate.environment} deploys"
        )
    if decision.user == requester and not policy.requester_may_approve:
        raise DecisionNotAllowed(
            f"you requested this change, so someone else must approve {gate.environment}"
        )
    if len(decision.reason) > MAX_REASON:
        raise DecisionNotAllowed(f"a reason or comment holds at most {MAX_REASON} characters")
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


def check_may_stop_or_retry(
    person: PersonAction,
    requester: str,
    policies: dict[str, ApprovalPolicy],
    access: AccessPolicy,
    verb: str,
) -> None:
    """Cancel and retry: the requester, an approver of any of its environments, or an admin."""
    if person.user == requester or person.user in access.admins:
        return
    if any(policy.allows(person) for policy in policies.values()):
        return
    raise DecisionNotAllowed(
        f"only <@{requester}> (who asked for it), its approvers or a Shipmate admin "
        f"may {verb} this delivery"
    )


def check_requester_alone(person: PersonAction, requester: str, verb: str) -> None:
    """Before a worker has said a delivery's rules, who else may stop it is not known yet
    (the caller's say would decide): its requester may, anyone else waits a moment."""
    if person.user != requester:
        raise DecisionNotAllowed(
            f"this delivery's rules are not known yet, so only <@{requester}> (who asked for "
            f"it) may {verb} it now; try again in a moment"
        )


def check_origin(action: PersonAction, channel: str | None, card_ts: str | None) -> None:
    """A button acts only on the delivery whose card (or private question) it sits on."""
    if action.origin == Origin.card and card_ts is None:
        raise CardNotReady("this delivery's card is still being posted; click again")
    if action.origin == Origin.card and (action.channel, action.message_ts) != (channel, card_ts):
        raise DecisionNotAllowed(
            "that button is not on this delivery's card, so nothing was decided; "
            "use the buttons on the card in the delivery's own thread"
        )
    if action.origin == Origin.prompt and action.channel != channel:
        raise DecisionNotAllowed("that question was about a delivery in another channel")
    if action.origin == Origin.direct and not (action.channel or "").startswith("D"):
        raise DecisionNotAllowed("that button is not in a direct message from Shipmate")
