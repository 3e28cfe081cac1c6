"""Request understanding: conversation text to a typed ServiceSpec, or to questions."""

from activities.understanding.changes import parse_change, spec_diff
from activities.understanding.result import PlanResult
from activities.understanding.rules import parse_request
from activities.understanding.understand import understand

__all__ = ["PlanResult", "parse_change", "parse_request", "spec_diff", "understand"]
