"""One entry point for request understanding: OpenAI when a key is set, rules otherwise."""

from __future__ import annotations

import html
import logging
import re

from shipmate.settings import Settings
from understanding.capabilities import deliverable
from understanding.changes import parse_change, spec_diff
from understanding.faithful import checked
from understanding.modes import requested_mode
from understanding.openai_parser import OpenAIUnavailable, parse_with_openai
from understanding.plan_language import PlanLanguageError, read, starts_like_a_plan, unfenced
from understanding.result import PlanResult
from understanding.rules import parse_request
from workflows.spec import ServiceSpec

log = logging.getLogger(__name__)

# Mentions of people, channels and groups are who was asked, not what to build.
SLACK_MARKUP = re.compile(r"<[@#!][^>]*>")


def understand(
    settings: Settings, thread: list[str], base_spec: ServiceSpec | None = None
) -> PlanResult:
    """The thread so far (oldest first) to a spec or questions; a change if base_spec is set.

    What is not built yet (a deploy target, a database) becomes a question here, asked
    before any work starts rather than after the build.
    """
    return deliverable(_understand(settings, thread, base_spec))


def _understand(settings: Settings, thread: list[str], base_spec: ServiceSpec | None) -> PlanResult:
    thread = [SLACK_MARKUP.sub(" ", line) for line in thread]
    thread = [line for line in thread if line.strip()] or [""]
    if typed := typed_plan(thread[-1], base_spec):
        diff = spec_diff(base_spec, typed) if base_spec else []
        return PlanResult(spec=typed, diff=diff, notes=["Read as a plan, exactly as written."])
    if base_spec is None and (asked := requested_mode("\n".join(thread))):
        return PlanResult(questions=[asked.answer], mode=asked.mode.value)
    notes: list[str] = []
    if settings.openai_api_key is not None:
        try:
            result = parse_with_openai(settings, thread, base_spec)
            if result.spec and base_spec:
                result.diff = spec_diff(base_spec, result.spec)
            return result if base_spec else checked(thread, result)
        except OpenAIUnavailable as exc:
            log.warning("OpenAI unavailable, using the offline parser: %s", exc)
            notes.append("OpenAI didn't answer, so I read this with my offline parser.")
    if base_spec is not None:
        result = parse_change(base_spec, thread[-1])
    else:
        result = parse_request("\n".join(thread))
    result.notes = notes + result.notes
    return result


def typed_plan(text: str, base: ServiceSpec | None = None) -> ServiceSpec | None:
    """The spec of a message written in the plan language, or None; with `base`, the next
    version of that service (its name must be the plan's).

    A plan is read exactly; a message that only starts like one ('Service: fleet-tracker'
    then free-form lines) is left to the readers of free text, which take it as it comes.
    """
    said = unfenced(html.unescape(text))  # Slack sends > as &gt;
    if not starts_like_a_plan(said):
        return None
    try:
        spec = read(said, base=base)
    except PlanLanguageError:
        return None
    if base is None:
        return spec
    if spec.name != base.name:
        return None  # a plan for another service is no change of this one
    return spec.model_copy(update={"version": base.version + 1})
