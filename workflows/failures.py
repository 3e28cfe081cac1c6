"""How a failed activity is said on a card: its own words, not Temporal's wrapper."""

from __future__ import annotations

from temporalio.exceptions import ActivityError


def cause(err: ActivityError) -> str:
    """The activity's own words (an ApplicationError's message), not Temporal's wrapper."""
    inner = err.cause
    return str(getattr(inner, "message", None) or inner or err)
