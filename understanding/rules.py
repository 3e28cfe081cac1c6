"""The offline rule parser: requests as people write them, read without a key.

It reads the service's settings (service_words), what it manages (entities, fields),
and names each default it fills. Whatever would make the service differ from the
request (a stack, database or target it cannot build, a name it cannot use) becomes
a question; every other word it did not use is listed back in the thread.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from understanding import consumer_asks
from understanding.entities import read_entities, relations
from understanding.event_asks import events_asked, set_aside
from understanding.fields import find_choices
from understanding.names import correct, entity_name
from understanding.permissions import read_permissions
from understanding.result import Choice, PlanResult, questions_from_validation
from understanding.service_words import read_service_words
from understanding.spelling import mend_text
from understanding.structured import flattened
from understanding.vocabulary import (
    AUTH_WORDS,
    CONTROL,
    FILLER,
    KNOWN_FIELDS,
    MAX_REQUEST_CHARS,
    OWN_WORDS,
)
from understanding.words import Request
from workflows.spec import (
    Api,
    Auth,
    Database,
    EntitySpec,
    FieldSpec,
    FieldType,
    ServiceSpec,
    plural,
)

NOTHING_TO_MANAGE = (
    "What should the service manage? Name the things and their fields, e.g. "
    "'orders with customer, total (decimal) and status'."
)


def parse_request(text: str) -> PlanResult:
    """Turn one request (or a whole thread joined) into a spec, or into questions."""
    if len(text) > MAX_REQUEST_CHARS:
        return PlanResult(
            questions=[
                f"That request is {len(text)} characters long; I read at most "
                f"{MAX_REQUEST_CHARS}. Could you say it in a few sentences?"
            ]
        )
    request = Request(corrected(text))
    set_aside(request)
    consuming = consumer_asks.set_aside(request)
    choices = find_choices(request)
    for listed in choices:  # the values are read here; the name stays for the field reader
        name_end = listed.start + len(listed.name)
        request.use(name_end, listed.end)
        request.blank(name_end, listed.end)
    service = read_service_words(request)
    explicit = _explicit_name(request)
    defaults: list[str] = []
    asked: list[Choice] = list(service.choices)
    questions: list[str] = []
    if lookalikes := request.lookalikes():
        questions.append(
            f"{', '.join(repr(w) for w in lookalikes)} mixes Latin letters with letters from "
            "another alphabet that look the same, so nobody could type that name again. "
            "Could you write it in plain letters?"
        )
    database = service.database
    if database is None and not any("PostgreSQL" in c.answers for c in asked):
        database = Database.postgresql
        defaults.append("database: postgresql")
    auth = service.auth
    if auth is None:
        auth = Auth.none
        defaults.append("auth: none")
    defaults += service.defaults
    reading = read_entities(request, choices)
    questions += reading.problems
    entities, entity_questions = _entities(reading, defaults)
    questions += entity_questions
    kept = read_permissions(request.folded, entities, service.roles, service.roles_listed)
    questions += kept.questions
    if kept.kept and auth == Auth.none and "auth: none" in defaults:
        auth = Auth.jwt
        defaults.remove("auth: none")
        defaults.append("auth: jwt (who may do what needs sign-in)")
    elif kept.kept and auth == Auth.none:
        questions.append(
            "Who may do what needs people to sign in, but you asked for no auth. "
            "Should I add sign-in (jwt), or drop the rules?"
        )
    for entity in entities:
        entity.permissions = kept.kept.get(entity.name, {})
    if not entities and not questions:
        questions.append(NOTHING_TO_MANAGE)
    names = [e.name for e in entities]
    events, event_choices, assumed = events_asked(request, names)
    asked += event_choices
    defaults += assumed
    consumers, consumer_questions, assumed = consumer_asks.consumers_for(
        consuming, entities, asked, request, signs_in=auth != Auth.none
    )
    questions += consumer_questions
    defaults += assumed
    name = (
        explicit
        or _name_phrase(request)
        or _service_for(request, names)
        or _from_entities(entities)
    )
    notes = []
    if unused := request.unused_words(FILLER):
        notes.append("I didn't use: " + ", ".join(unused[:20]) + ".")
    if questions or asked:
        return PlanResult(
            questions=[c.question for c in asked] + questions,
            choices=asked,
            defaults=defaults,
            notes=notes,
        )
    try:
        spec = ServiceSpec(
            name=name,
            description=" ".join(text.split())[:200],
            api=service.api or [Api.rest],
            database=database,
            auth=auth,
            roles=kept.roles if auth != Auth.none else [],
            entities=entities,
            events=events or [],
            consumers=consumers,
            deploy=service.deploy,
        )
    except ValidationError as exc:
        return PlanResult(questions=questions_from_validation(exc), defaults=defaults, notes=notes)
    return PlanResult(spec=spec, defaults=defaults, notes=notes)


MUST_BE = re.compile(
    r"(?i)\s*\b(?:(?:that|which)\s+)?(?:must|should|has to|have to|needs to|need to)\s+be\s+"
    r"(unique|optional|required)\b"
)
PARTICLE_COMPOUND = re.compile(
    r"(?i)\b([a-z]{3,})-((?:in|up|out|off|on|over|through|by|down)s?)\b(?!-)"
)
FLAG_PHRASE = re.compile(
    r"(?i)\b(has|is|can|needs)\s+([a-z]+)\s*(\((?:bool|boolean|yes\s*/\s*no|y\s*/\s*n)\)"
    r"|\b(?:bool|boolean)\b|yes\s*/\s*no|y\s*/\s*n)"
)


def corrected(text: str) -> str:
    """Close misspellings of the words that steer the parser ('postgress', 'stagin'),
    and chat shorthand ('w/ graphql')."""
    text = re.sub(r"\*\*|__", "", text)  # markdown bold: '- **Operator**: callsign, …'
    text = flattened(text)  # tables, braces and YAML-like blocks as 'Entity: a, b' lines
    text = MUST_BE.sub(r" \1", text)  # 'a license number that must be unique'
    text = re.sub(r"(?i)\bw/(?=\s|\w)\s*", "with ", text)
    text = PARTICLE_COMPOUND.sub(r"\1 \2", text)  # 'check-ins' -> 'check ins': CheckIn
    text = FLAG_PHRASE.sub(r"\1_\2 \3", text)  # 'has yard (bool)' -> has_yard
    text = re.sub(
        r"[A-Za-z]{5,}", lambda m: _keep_case(m.group(), correct(m.group().lower())), text
    )
    return mend_text(text, OWN_WORDS)


def _keep_case(written: str, meant: str) -> str:
    return written if meant == written.lower() else meant


def _entities(reading, defaults: list[str]) -> tuple[list[EntitySpec], list[str]]:
    drafts = sorted(reading.entities.values(), key=lambda d: d.place)
    questions = []
    if reading.loose_fields:
        if len(drafts) == 1:
            for spec in reading.loose_fields:
                drafts[0].fields.setdefault(spec.name, spec)
        elif drafts:
            loose = ", ".join(f.name for f in reading.loose_fields)
            questions.append(
                f"Which entity do {loose} belong to ({', '.join(d.name for d in drafts)})? "
                "Say e.g. 'orders have …'."
            )
    entities = []
    for draft in drafts:
        fields = [f for name, f in draft.fields.items() if name not in draft.links]
        if not fields:
            known = KNOWN_FIELDS.get(draft.name, [("name", FieldType.str)])
            fields = [FieldSpec(name=n, type=t) for n, t in known]
            defaults.append(f"fields of {draft.name}: " + ", ".join(f.name for f in fields))
        try:
            entities.append(EntitySpec(name=draft.name, fields=fields, relations=relations(draft)))
        except ValidationError as exc:
            questions += questions_from_validation(exc)
    return entities, questions


def _explicit_name(request: Request) -> str | None:
    match = re.search(
        r"\b(?:called|named|call it|name it|service(?:[ \t]+name)?[ \t]*[:=])[ \t]*[`'\"]?"
        r"([a-z][a-z0-9 _-]{1,38})",
        request.lowered,
    )
    if not match:
        return None
    if re.match(r"service", match.group()) and not re.fullmatch(
        r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)+", match.group(1).strip()
    ):
        return None  # 'Service: orders and invoices' says what it is, not its name
    words = re.split(r"[\s_]+", match.group(1).strip())
    words = words[
        : next(
            (
                i
                for i, w in enumerate(words)
                if w in ("with", "and", "that", "using", "on", "in", "for")
            ),
            len(words),
        )
    ]
    name = re.sub(r"[^a-z0-9-]", "", "-".join(words)).strip("-")
    if len(name) < 3:
        return None
    request.use(match.start(), match.start(1) + len(" ".join(words)))
    request.blank(match.start(), match.start(1) + len(" ".join(words)))  # no entity 'Service'
    return re.sub(r"-+", "-", name)[:40].strip("-")


# Words that are filler elsewhere but belong in a service's name: leave-management-api.
NAME_WORDS = frozenset({"management", "list", "tracker", "tracking", "booking", "support", "store"})


def _name_phrase(request: Request) -> str | None:
    """'inventory service' -> inventory-service, 'vehicle fleet API' -> vehicle-fleet-api."""
    kinds = {"rest", "restful", "graphql", "grpc", "crud", "json", "http", "web"}
    for match in re.finditer(r"\b(api|service|backend|app)\b", request.lowered):
        words = re.findall(r"[a-z][a-z0-9]*", request.lowered[: match.start()])
        while words and words[-1] in kinds:
            words.pop()
        phrase: list[str] = []
        while words and len(phrase) < 2:
            word = words.pop()
            skip = word in FILLER and word not in NAME_WORDS
            if skip or word in CONTROL or word in AUTH_WORDS or len(word) < 3:
                break
            phrase.insert(0, word)
        if phrase and not set(phrase) <= NAME_WORDS:
            for word in phrase:
                request.use_words(0, match.start(), {word})
            kind = "service" if match.group(1) == "service" else "api"
            return "-".join([*phrase, kind])[:40]
    return None


def _service_for(request: Request, entity_names: list[str]) -> str | None:
    """'an API for a library: members (…), loans (…)' -> library-api."""
    match = re.search(
        r"\b(?:(api|service|backend|app)\s+)?for\s+(?:managing\s+|running\s+)?"
        r"(?:an?\s+|the\s+|our\s+|my\s+)?"
        r"([a-z][a-z0-9]*)(?:\s+([a-z][a-z0-9]*))?\s*(?=[:.]|$|with\b)",
        request.folded,
    )
    if not match:
        return None
    words = [w for w in match.group(2, 3) if w and w not in FILLER]
    noun = entity_name(words[-1:])
    if not words or noun is None or noun in entity_names:
        return None
    request.use(match.start(2), match.end())
    return f"{'-'.join(words)}-{'service' if match.group(1) == 'service' else 'api'}"


def _from_entities(entities: list[EntitySpec]) -> str:
    if not entities:
        return "new-api"
    return f"{plural(entities[0].snake).replace('_', '-')}-api"[:40]
