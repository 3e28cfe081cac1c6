"""Which moments of a delivery deserve a reply in its Slack thread, each named once.

A moment is typed (what happened, where, which one), so the workflow can remember which
it has announced and the notify activity can word each one without parsing strings.
"""

from __future__ import annotations

from workflows.models import Decision, DeliveryState, DeliveryStatus, GateState
from workflows.stage_models import Moment, MomentKind

ENDINGS = (DeliveryState.rejected, DeliveryState.expired, DeliveryState.cancelled)


def thread_moments(status: DeliveryStatus, failures: int) -> list[Moment]:
    """Open gates, reminders, closed gates, decisions, deploys, failures and endings, in
    the order they read."""
    moments = [
        Moment(kind=MomentKind.gate_open, environment=g.environment)
        for g in status.gates
        if g.state == GateState.open
    ]
    moments += [
        Moment(kind=MomentKind.gate_reminder, environment=g.environment)
        for g in status.gates
        if g.state == GateState.open and g.reminded
    ]
    moments += [
        Moment(kind=MomentKind.gate_closed, environment=g.environment)
        for g in status.gates
        if g.expires_at is not None and g.state not in (GateState.open, GateState.pending)
    ]
    moments += [
        Moment(kind=MomentKind.decision, number=n)
        for n, entry in enumerate(status.audit)
        if entry.decision in (Decision.approved, Decision.rejected, Decision.retried)
    ]
    moments += [
        Moment(kind=MomentKind.deployed, environment=d.environment) for d in status.deployments
    ]
    if status.state == DeliveryState.failed:
        moments.append(Moment(kind=MomentKind.failed, number=failures))
    if status.state in ENDINGS:
        moments.append(Moment(kind=MomentKind.ended))
    return moments
