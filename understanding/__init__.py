"""Request understanding: conversation text to a typed ServiceSpec, or to questions."""

from understanding.changes import parse_change, spec_diff
from understanding.result import PlanResult
from understanding.rules import parse_request
from understanding.understand import understand

__all__ = ["PlanResult", "parse_change", "parse_request", "spec_diff", "understand"]
