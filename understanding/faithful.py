"""The check that a model's answer says what the request said: whatever the spec does
not reflect is listed back ("I didn't use: …"), and a stack, database, target or
sign-in Shipmate cannot build becomes the same question the rule parser asks, even
when the model quietly built something else."""

from __future__ import annotations

from understanding.names import singular
from understanding.result import PlanResult
from understanding.rules import corrected
from understanding.service_words import read_service_words
from understanding.vocabulary import FILLER
from understanding.words import WORD, Request
from workflows.environments import ENVIRONMENT_WORDS
from workflows.spec import ServiceSpec, snake_case


def checked(thread: list[str], result: PlanResult) -> PlanResult:
    """The model's result, with unbuildable parts asked about and unused words named."""
    request = Request(corrected("\n".join(thread)))
    service = read_service_words(request)  # marks the service's words, finds what is not built
    if service.choices:
        return PlanResult(questions=[c.question for c in service.choices], choices=service.choices)
    if result.spec is None:
        return result
    said = _spec_words(result.spec)
    for match in WORD.finditer(request.lowered):
        word = match.group()
        if word in said or singular(word) in said:
            request.use(match.start(), match.end())
    unused = request.unused_words(FILLER)
    if not unused:
        return result
    note = "I didn't use: " + ", ".join(unused[:20]) + "."
    return result.model_copy(update={"notes": [*result.notes, note]})


def _spec_words(spec: ServiceSpec) -> set[str]:
    words = set(spec.name.split("-")) | set(spec.roles) | set(spec.deploy.environments)
    words |= {w for w, env in ENVIRONMENT_WORDS.items() if env in spec.deploy.environments}
    for entity in spec.entities:
        words |= set(snake_case(entity.name).split("_"))
        for field in entity.fields:
            words |= {field.name, *field.name.split("_"), *field.choices, field.type.value}
        for relation in entity.relations:
            words |= {relation.name, relation.column, *relation.name.split("_")}
    return words
