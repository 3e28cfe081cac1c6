"""One entry point for request understanding: OpenAI when a key is set, rules otherwise."""

from __future__ import annotations

import logging

from activities.settings import Settings
from activities.understanding.changes import parse_change, spec_diff
from activities.understanding.openai_parser import OpenAIUnavailable, parse_with_openai
from activities.understanding.result import PlanResult
from activities.understanding.rules import parse_request
from workflows.spec import DeployTarget, ServiceSpec

log = logging.getLogger(__name__)


def understand(
    settings: Settings, thread: list[str], base_spec: ServiceSpec | None = None
) -> PlanResult:
    """The thread so far (oldest first) to a spec or questions; a change if base_spec is set.

    A spec Shipmate could not deliver (a deploy target not built yet) becomes a question,
    asked before any work starts rather than after the build.
    """
    return _deliverable(_understand(settings, thread, base_spec))


def _deliverable(result: PlanResult) -> PlanResult:
    if result.spec is not None and result.spec.deploy.target == DeployTarget.aws_lambda:
        question = (
            "I can't deploy to AWS Lambda yet. Shall I run it on ECS (Fargate) instead, "
            'or on the local Docker engine? Say "on ECS" or "locally".'
        )
        return result.model_copy(update={"spec": None, "questions": [question], "diff": []})
    return result


def _understand(settings: Settings, thread: list[str], base_spec: ServiceSpec | None) -> PlanResult:
    thread = [line for line in thread if line.strip()] or [""]
    notes: list[str] = []
    if settings.openai_api_key is not None:
        try:
            result = parse_with_openai(settings, thread, base_spec)
            if result.spec and base_spec:
                result.diff = spec_diff(base_spec, result.spec)
            return result
        except OpenAIUnavailable as exc:
            log.warning("OpenAI unavailable, using the offline parser: %s", exc)
            notes.append("OpenAI didn't answer, so I read this with my offline parser.")
    if base_spec is not None:
        result = parse_change(base_spec, thread[-1])
    else:
        result = parse_request("\n".join(thread))
    result.notes = notes + result.notes
    return result
