"""The offline rule parser: the common ways people ask for a service, no key needed.

It extracts what is written and fills defaults for what is not, naming each default,
and it asks instead of guessing when the request names nothing to manage.
"""

from __future__ import annotations

import difflib
import re

from pydantic import ValidationError

from understanding.result import PlanResult, questions_from_validation
from understanding.vocabulary import (
    CONTROL,
    DATABASES,
    ENVIRONMENTS,
    FILLER,
    IRREGULAR,
    KNOWN_FIELDS,
    MAX_REQUEST_CHARS,
    MODIFIERS,
    TYPE_WORDS,
    VOCABULARY,
)
from workflows.spec import (
    RESERVED_FIELD_NAMES,
    Api,
    Auth,
    Database,
    DeploySpec,
    DeployTarget,
    EntitySpec,
    EventSpec,
    FieldSpec,
    FieldType,
    RelationSpec,
    ServiceSpec,
    plural,
    snake_case,
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
    words = _normalise(text)
    flat = " ".join(words)
    defaults: list[str] = []
    questions: list[str] = []

    database = _last(words, DATABASES)  # so an answer later in the thread settles it
    if database is None:
        database = Database.postgresql
        defaults.append("database: postgresql")
    auth = _auth(flat)
    if auth is None:
        auth = Auth.none
        defaults.append("auth: none")
    roles = _roles(text.lower()) if auth != Auth.none else []
    api = [a for a in Api if a.value in words] or [Api.rest]
    deploy, deploy_questions = _deploy(flat, words, defaults)
    questions += deploy_questions

    try:
        entities = _entities(text, defaults)
    except ValidationError as exc:  # a name the spec refuses, e.g. a reserved entity name
        return PlanResult(questions=questions_from_validation(exc), defaults=defaults)
    if not entities:
        questions.append(
            "What should the service manage? Name the things and their fields, e.g. "
            "'orders with customer, total (decimal) and status'."
        )
    if questions:
        return PlanResult(questions=questions, defaults=defaults)

    name = _explicit_name(text) or _service_name(text.lower(), entities)
    events = events_asked(text.lower(), [e.name for e in entities])
    if events == []:
        events = [EventSpec(entity=e.name) for e in entities]
        defaults.append("events: changes of every entity")
    try:
        spec = ServiceSpec(
            name=name[:40].strip("-"),
            description=" ".join(text.split())[:200],
            api=api,
            database=database,
            auth=auth,
            roles=roles,
            entities=entities,
            events=events or [],
            deploy=deploy,
        )
    except ValidationError as exc:
        return PlanResult(questions=questions_from_validation(exc), defaults=defaults)
    return PlanResult(spec=spec, defaults=defaults)


def _normalise(text: str) -> list[str]:
    """Lowercase words with common typos of the control words corrected."""
    return [_correct(word) for word in re.findall(r"[a-z0-9_]+", text.lower())]


def _correct(word: str) -> str:
    if len(word) >= 5 and word not in VOCABULARY:
        match = difflib.get_close_matches(word, VOCABULARY, n=1, cutoff=0.85)
        return match[0] if match else word
    return word


def _last(words: list[str], table: dict):
    named = [table[word] for word in words if word in table]
    return named[-1] if named else None


def _auth(flat: str) -> Auth | None:
    if re.search(r"\b(no|without) (auth|authentication|login)\b", flat):
        return Auth.none
    if "oauth" in flat:
        return Auth.oauth2
    if re.search(r"\b(jwt|auth|authentication|login|roles?|admins?)\b", flat):
        return Auth.jwt
    return None


def _roles(text: str) -> list[str]:
    match = re.search(
        r"\broles?\s*(?::|are|=|of)\s*([a-z_]+(?:(?:\s*,\s*|\s+and\s+)[a-z_]+)*)", text
    )
    if match:
        roles = [singular(r) for r in re.split(r"\s*,\s*|\s+and\s+", match.group(1))]
        return list(dict.fromkeys(r for r in roles if re.match(r"^[a-z][a-z0-9_]*$", r)))[:8]
    if re.search(r"\badmins?\b", text):
        return ["admin", "user"]
    return ["user"]


TARGET_WORDS = {
    "lambda": DeployTarget.aws_lambda,
    "ecs": DeployTarget.aws_ecs,
    "fargate": DeployTarget.aws_ecs,
    "locally": DeployTarget.local,
}


def _deploy(flat: str, words: list[str], defaults: list[str]) -> tuple[DeploySpec, list[str]]:
    questions: list[str] = []
    if re.search(r"\b(do not|dont|don t|no|without) deploy", flat):
        return DeploySpec(target=DeployTarget.none, environments=[]), questions
    # the last target named wins, so "ECS" answering a question about "lambda" settles it
    named = [TARGET_WORDS[w] for w in words if w in TARGET_WORDS]
    if named:
        target = named[-1]
    elif "aws" in words:  # AWS without a service: ECS, where a FastAPI app runs as it is
        target = DeployTarget.aws_ecs
    else:
        target = DeployTarget.local
        defaults.append("deploy target: local")
    envs = list(dict.fromkeys(ENVIRONMENTS[w] for w in words if w in ENVIRONMENTS and w != "test"))
    env_words = "|".join(ENVIRONMENTS)
    if re.search(rf"\b({env_words}) or ({env_words})\b", flat) and "prod" in envs:
        questions.append("Which environment should this go to first: " + " or ".join(envs) + "?")
    if not envs:
        envs = ["staging"]
        defaults.append("environments: staging")
    return DeploySpec(target=target, environments=envs), questions


def _service_name(lowered: str, entities: list[EntitySpec]) -> str:
    """'inventory service' stays inventory-service; otherwise the first entity, pluralised."""
    match = re.search(r"\b([a-z]+)[ -](api|service)\b", lowered)
    if match and match.group(1) not in FILLER and len(match.group(1)) >= 3:
        return f"{match.group(1)}-{match.group(2)}"
    return f"{plural(entities[0].snake).replace('_', '-')}-api"


def _explicit_name(text: str) -> str | None:
    match = re.search(r"\b(?:called|named)\s+[`'\"]?([A-Za-z][A-Za-z0-9 _-]{1,38})", text)
    if not match:
        return None
    name = re.sub(r"[\s_]+", "-", match.group(1).strip().split(" with")[0]).lower()
    name = re.sub(r"[^a-z0-9-]", "", name).strip("-")
    return name if len(name) >= 3 else None


def _entities(text: str, defaults: list[str]) -> list[EntitySpec]:
    """Entities with the fields written for them; known nouns get default fields."""
    lowered = text.lower()
    found: dict[str, list[FieldSpec]] = {}
    listed = _listed_entities(lowered)
    for noun in listed:
        found[noun] = []
    main_noun = None
    for clause in re.split(r"[.;\n]|\bthen\b|\bdeploy\b", lowered):
        triggers = list(_TRIGGER.finditer(clause))
        for i, match in enumerate(triggers):
            end = triggers[i + 1].start() if i + 1 < len(triggers) else len(clause)
            segment = clause[match.end() : end]
            before = clause[: match.start()]
            if segment.strip().startswith(("entit", "role")) or re.search(r"roles?\s*$", before):
                continue
            if i + 1 < len(triggers):
                # 'with sqlite, tickets have ...': the last item names the next clause's entity.
                cut = list(re.finditer(r",|\band\b", segment))
                if not cut:
                    continue
                segment = segment[: cut[-1].start()]
            fields = parse_fields(segment)
            if not fields:
                continue
            noun = _last_noun(before)
            if noun is None or (listed and noun not in listed and "field" in match.group()):
                noun = main_noun or (listed[0] if listed else None)
            if noun is None:
                continue
            main_noun = main_noun or noun
            found[noun] = found.get(noun) or fields
    if not found:
        for noun in _service_nouns(lowered):
            found.setdefault(noun, [])

    entities = []
    for noun, fields in found.items():
        if not fields:
            known = KNOWN_FIELDS.get(noun, [("name", FieldType.str)])
            fields = [FieldSpec(name=n, type=t) for n, t in known]
            defaults.append(f"fields of {noun}: " + ", ".join(f.name for f in fields))
        entities.append((noun, fields))
    return _with_relations(entities)


_TRIGGER = re.compile(
    r"\b(?:have|hav|has|having|with fields|with field|fields|field|with|containing)\b|:"
)


def _last_noun(before: str) -> str | None:
    """The thing a clause is about: the last word before 'have'/'with' that is not filler."""
    for word in reversed(re.findall(r"[a-z]+", before)):
        if word not in FILLER and len(word) >= 3:
            return singular(word).capitalize()
    return None


def _listed_entities(lowered: str) -> list[str]:
    match = re.search(r"\bentit(?:y|ies)\s*:?\s+([a-z]+(?:(?:\s*,\s*|\s+and\s+)[a-z]+)*)", lowered)
    if not match:
        return []
    nouns = [entity_noun(w) for w in re.split(r"\s*,\s*|\s+and\s+", match.group(1))]
    return list(dict.fromkeys(n for n in nouns if n))


def _service_nouns(lowered: str) -> list[str]:
    """Nouns the request says the service is about: 'orders api', 'api for products'."""
    nouns: list[str] = []
    patterns = [
        r"\b([a-z]+)\s+(?:management|managing|tracking|tracker|catalog(?:ue)?)\b",
        r"\b([a-z]+)\s+(?:rest |graphql |grpc |crud )?(?:api|service|microservice|backend|app)\b",
        r"\b(?:for|of|managing|manage|track|tracking|storing)\s+(?:the\s+|our\s+|my\s+)?"
        r"([a-z]+(?:(?:\s*,\s*|\s+and\s+)[a-z]+)*)",
    ]
    for pattern in patterns:
        for match in re.finditer(pattern, lowered):
            for word in re.split(r"\s*,\s*|\s+and\s+", match.group(1)):
                noun = entity_noun(word)
                if noun and noun not in nouns:
                    nouns.append(noun)
    return nouns


EVENTS_ASKED = re.compile(r"\bsqs\b|\b(?:publish|emit)\w*\b.*\b(?:events?|changes?)\b")


def events_asked(lowered: str, entity_names: list[str]) -> list[EventSpec] | None:
    """'publish order changes to SQS': events for the entities named where they are asked
    for; [] when asked for without naming any; None when not asked for at all."""
    asked = [c for c in re.split(r"[.;\n]", lowered) if EVENTS_ASKED.search(c)]
    if not asked:
        return None
    said = " ".join(singular(w) for clause in asked for w in re.findall(r"[a-z]+", clause))
    return [
        EventSpec(entity=name)
        for name in entity_names
        if f" {snake_case(name).replace('_', ' ')} " in f" {said} "
    ]


def entity_noun(phrase: str) -> str | None:
    words = [w for w in re.findall(r"[a-z]+", phrase) if w not in FILLER]
    if len(words) != 1 or len(words[0]) < 3:
        return None
    return singular(words[0]).capitalize()


def parse_fields(segment: str) -> list[FieldSpec]:
    fields: dict[str, FieldSpec] = {}
    for item in re.split(r",(?![^()]*\))|\band\b(?![^()]*\))|\bplus\b", segment):
        modifiers = " ".join(re.findall(r"\(([^)]*)\)", item))
        words = re.findall(r"[a-z_0-9]+", re.sub(r"\([^)]*\)", " ", item))
        if {_correct(word) for word in words} & CONTROL:
            continue
        words += re.findall(r"[a-z]+", modifiers)
        name_parts = [w for w in words if w not in TYPE_WORDS and w not in MODIFIERS]
        name_parts = [w for w in name_parts if w not in ("a", "an", "the", "is", "as", "of")]
        if not name_parts and words and words[0] in TYPE_WORDS:
            name_parts = [words[0]]  # 'email', 'text': the type word is the name
        elif name_parts and words[-1] == "date" and name_parts[-1] not in ("on", "at"):
            name_parts.append("date")  # 'due date' -> due_date
        if not name_parts or len(name_parts) > 3:
            continue
        name = "_".join(name_parts)
        if name in RESERVED_FIELD_NAMES or not re.match(r"^[a-z][a-z0-9_]{0,39}$", name):
            continue
        types = [TYPE_WORDS[w] for w in words if w in TYPE_WORDS and w != name]
        fields.setdefault(
            name,
            FieldSpec(
                name=name,
                type=types[0] if types else TYPE_WORDS.get(name) or _guess_type(name),
                unique="unique" in words,
                required="optional" not in words and "nullable" not in words,
            ),
        )
    return list(fields.values())


def _guess_type(name: str) -> FieldType:
    if name == "email" or name.endswith("_email"):
        return FieldType.email
    if name in ("price", "amount", "total", "cost", "balance") or name.endswith("_price"):
        return FieldType.decimal
    if name.endswith("_at") or name in ("timestamp",):
        return FieldType.datetime
    if name.endswith("_date") or name in ("birthday", "due", "date"):
        return FieldType.date
    if name.startswith(("is_", "has_", "in_")) or name in ("active", "done", "completed"):
        return FieldType.bool
    if name in ("quantity", "count", "age", "stock", "year", "capacity", "votes", "score"):
        return FieldType.int
    if name.endswith(("_count", "_year")):
        return FieldType.int
    if name in ("description", "notes", "body", "content", "bio"):
        return FieldType.text
    if name.endswith("_uuid"):
        return FieldType.uuid
    return FieldType.str


def _with_relations(entities: list[tuple[str, list[FieldSpec]]]) -> list[EntitySpec]:
    """A field named after another entity ('customer' on Order) becomes a relation."""
    names = {noun.lower(): noun for noun, _ in entities}
    result = []
    for noun, fields in entities:
        plain, relations = [], []
        for field in fields:
            base = field.name.removesuffix("_id")
            if base in names and names[base] != noun:
                relations.append(
                    RelationSpec(name=base, target=names[base], required=field.required)
                )
            else:
                plain.append(field)
        result.append(EntitySpec(name=noun, fields=plain, relations=relations))
    return result


def singular(word: str) -> str:
    if word in IRREGULAR:
        return IRREGULAR[word]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "tuses")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word
