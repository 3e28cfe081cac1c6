"""Request understanding: conversation text to a typed ServiceSpec, or to questions."""

from activities.understanding.result import PlanResult
from activities.understanding.rules import parse_request

__all__ = ["PlanResult", "parse_request"]
