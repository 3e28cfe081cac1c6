"""Which moments of a delivery deserve a reply in its Slack thread, each named once."""

from __future__ import annotations

from workflows.models import DeliveryState, DeliveryStatus

ENDINGS = (DeliveryState.rejected, DeliveryState.expired, DeliveryState.cancelled)


def thread_moments(status: DeliveryStatus, failures: int) -> list[str]:
    """Open gates, decisions, deploys, failures (numbered: a retry may fail again), endings."""
    moments = [f"gate:{g.environment}" for g in status.gates if g.state == "open"]
    moments += [
        f"audit:{n}"
        for n, entry in enumerate(status.audit)
        if entry.decision in ("approved", "rejected", "retried")
    ]
    moments += [f"deployed:{d.environment}" for d in status.deployments]
    if status.state == DeliveryState.failed:
        moments.append(f"failed:{failures}")
    if status.state in ENDINGS:
        moments.append(status.state.value)
    return moments
