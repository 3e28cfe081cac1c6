"""Change requests on a running service, and the readable diff between two spec versions.

"add a status field to orders", "make email unique", "add a Product entity with name
and price", "remove notes from orders", "also deploy to prod", "publish order changes to
SQS": each becomes the next spec version; anything else becomes a question with examples.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from understanding.result import PlanResult, questions_from_validation
from understanding.rules import entity_noun, events_asked, parse_fields, singular
from understanding.vocabulary import ENVIRONMENTS
from workflows.spec import EXAMPLE_DEFAULTS, EntitySpec, FieldSpec, ServiceSpec, existing_rows_value

EXAMPLES = (
    "I didn't catch the change. Try e.g. 'add a status field to orders', 'make email "
    "unique', 'add a Product entity with name and price', 'remove notes from orders' or "
    "'also deploy to prod'."
)


ADD_ENTITY = re.compile(
    r"\badd (?:an? |new |another )*([a-z]+) (?:entity|model|table|resource)"
    r"(?: (?:with|having) (.+))?"
)
ADD_FIELDS = re.compile(
    r"\badd (?:an? |the )?(?:fields? )?(.+?) (?:fields? )?(?:to|on|for) (?:the |each |every )?"
    r"([a-z]+)$"
)
REMOVE_FIELD = re.compile(
    r"\b(?:remove|drop|delete) (?:the )?([a-z_]+)(?: field)? (?:from|on|of) (?:the )?([a-z]+)"
)
DEFAULT_FIELD = re.compile(
    r"\b(?:default|set the default (?:of|for)) (?:the )?([a-z_]+)(?: field)?"
    r"(?: (?:on|of|in) (?:the )?([a-z]+))? (?:to|=|as) (.+)$"
    r"|\b([a-z_]+)(?: field)?(?: (?:on|of|in) (?:the )?([a-z]+))? defaults? to (.+)$"
)
MAKE_FIELD = re.compile(
    r"\bmake (?:the )?([a-z_]+)(?: field)?(?: (?:on|of|in) (?:the )?([a-z]+))? "
    r"(unique|optional|required)"
)


def parse_change(base: ServiceSpec, text: str) -> PlanResult:
    lowered = " ".join(text.lower().split())
    data = base.model_dump()
    entities = {e["name"]: e for e in data["entities"]}
    problems: list[str] = []
    changed = False

    # A sentence ends at a full stop followed by a space: "ops@example.com" stays whole.
    for clause in re.split(r"\.(?:\s|$)|[;\n]|\balso\b|\band then\b", lowered):
        clause = re.sub(r"(?:\s+\b(?:and|then|too|please|as well))+$", "", clause.strip())
        if not clause:
            continue
        if match := ADD_ENTITY.search(clause):
            noun = entity_noun(match.group(1))
            if noun and noun not in entities:
                fields = parse_fields(match.group(2) or "") or [FieldSpec(name="name")]
                entities[noun] = EntitySpec(name=noun, fields=fields).model_dump()
                changed = True
            elif noun:
                problems.append(f"{base.name} already has an entity {noun}.")
        elif match := ADD_FIELDS.search(clause):
            entity = _find(entities, match.group(2), problems)
            for field in parse_fields(match.group(1)) if entity else []:
                if any(f["name"] == field.name for f in entity["fields"]):
                    problems.append(f"{entity['name']} already has a field {field.name}.")
                else:
                    entity["fields"].append(field.model_dump())
                    changed = True
        elif match := REMOVE_FIELD.search(clause):
            entity = _find(entities, match.group(2), problems)
            if entity:
                before = len(entity["fields"])
                entity["fields"] = [f for f in entity["fields"] if f["name"] != match.group(1)]
                if len(entity["fields"]) == before:
                    problems.append(f"{entity['name']} has no field {match.group(1)}.")
                changed = changed or len(entity["fields"]) != before
        elif match := DEFAULT_FIELD.search(clause):
            groups = match.groups()
            name, where, value = groups[:3] if groups[0] else groups[3:]
            hits = _fields_named(entities, name, where)
            if not hits:
                problems.append(f"No field called {name} in {base.name}.")
            # the value as written: an email or a datetime keeps its case
            written = re.search(re.escape(value.strip()), text, re.IGNORECASE)
            value = written.group(0) if written else value
            for field in hits:
                field["default"] = value.strip().strip("'\"`")
                changed = True
        elif match := MAKE_FIELD.search(clause):
            hits = _fields_named(entities, match.group(1), match.group(2))
            if not hits:
                problems.append(f"No field called {match.group(1)} in {base.name}.")
            for field in hits:
                if match.group(3) == "unique":
                    field["unique"] = True
                else:
                    field["required"] = match.group(3) == "required"
                changed = True
        elif (asked := events_asked(clause, list(entities))) is not None:
            have = {e["entity"] for e in data["events"]}
            wanted = [e.entity for e in asked] or list(entities)
            added = [{"entity": name, "sink": "sqs"} for name in wanted if name not in have]
            data["events"] += added
            changed = changed or bool(added)
        elif re.search(r"\bdeploy", clause):
            envs = [ENVIRONMENTS[w] for w in re.findall(r"[a-z]+", clause) if w in ENVIRONMENTS]
            added = [e for e in dict.fromkeys(envs) if e not in data["deploy"]["environments"]]
            data["deploy"]["environments"] += added
            changed = changed or bool(added)

    if problems:
        return PlanResult(questions=problems)
    if not changed:
        return PlanResult(questions=[EXAMPLES])
    data["entities"] = list(entities.values())
    data["version"] = base.version + 1
    try:
        spec = ServiceSpec(**data)
    except ValidationError as exc:
        return PlanResult(questions=questions_from_validation(exc))
    if missing := _values_existing_rows_lack(base, spec):
        return PlanResult(questions=missing)
    return PlanResult(spec=spec, diff=spec_diff(base, spec))


def _values_existing_rows_lack(old: ServiceSpec, new: ServiceSpec) -> list[str]:
    """A new required field on an entity that may already have rows needs a value for
    them; where no honest one exists (an email, a date, a unique value), ask."""
    before = {e.name: {f.name for f in e.fields} for e in old.entities}
    questions = []
    for entity in new.entities:
        for field in entity.fields:
            if (
                entity.name in before
                and field.name not in before[entity.name]
                and field.required
                and existing_rows_value(field) is None
            ):
                what = (
                    f"{entity.name} rows that may already exist need a value for the new required "
                    f"{field.type.value} field {field.name}"
                )
                if field.unique:
                    questions.append(
                        f"{what}, and a unique field can't give them all the same one. Add it "
                        f"as optional ('add {field.name} (unique, optional) to "
                        f"{entity.table.replace('_', ' ')}'), fill in distinct values, then "
                        "make it required."
                    )
                    continue
                example = EXAMPLE_DEFAULTS[field.type]
                questions.append(
                    f"{what}. Say the value ('default {field.name} to {example}') or make it "
                    f"optional ('make {field.name} optional')."
                )
    return questions


def _find(entities: dict, word: str, problems: list[str]) -> dict | None:
    name = singular(word).capitalize()
    if name not in entities:
        known = ", ".join(entities) or "none"
        problems.append(f"There is no entity {name} (entities: {known}).")
        return None
    return entities[name]


def _fields_named(entities: dict, field: str, entity_word: str | None) -> list[dict]:
    wanted = singular(entity_word).capitalize() if entity_word else None
    return [
        f
        for name, e in entities.items()
        if wanted in (None, name)
        for f in e["fields"]
        if f["name"] == field
    ]


def spec_diff(old: ServiceSpec, new: ServiceSpec) -> list[str]:
    """What changed between two versions, one readable line per change."""
    lines: list[str] = []
    before = {e.name: e for e in old.entities}
    after = {e.name: e for e in new.entities}
    for name in after.keys() - before.keys():
        fields = ", ".join(f.name for f in after[name].fields)
        lines.append(f"+ entity {name} ({fields})")
    for name in before.keys() - after.keys():
        lines.append(f"- entity {name}")
    for name in sorted(before.keys() & after.keys()):
        old_fields = {f.name: f for f in before[name].fields}
        new_fields = {f.name: f for f in after[name].fields}
        for field in after[name].fields:
            if field.name not in old_fields:
                lines.append(f"+ {name}.{field.name} ({field.type.value}{_flags(field)})")
            elif field != old_fields[field.name]:
                was = old_fields[field.name]
                lines.append(
                    f"~ {name}.{field.name}: {was.type.value}{_flags(was)} → "
                    f"{field.type.value}{_flags(field)}"
                )
        for field in before[name].fields:
            if field.name not in new_fields:
                lines.append(f"- {name}.{field.name}")
        old_rel = {r.name for r in before[name].relations}
        for relation in after[name].relations:
            if relation.name not in old_rel:
                lines.append(f"+ {name}.{relation.name} → {relation.target}")
    for attribute in ("database", "auth", "api", "roles"):
        if getattr(old, attribute) != getattr(new, attribute):
            lines.append(
                f"~ {attribute}: {_show(getattr(old, attribute))} → "
                f"{_show(getattr(new, attribute))}"
            )
    old_events = {e.entity for e in old.events}
    new_events = {e.entity for e in new.events}
    for name in sorted(new_events - old_events):
        lines.append(f"+ {name} changes published to SQS")
    for name in sorted(old_events - new_events):
        lines.append(f"- {name} changes no longer published")
    if old.deploy != new.deploy:
        was = f"{old.deploy.target.value} {' → '.join(old.deploy.environments)}"
        now = f"{new.deploy.target.value} {' → '.join(new.deploy.environments)}"
        lines.append(f"~ deploy: {was} ⇒ {now}")
    return lines


def _flags(field: FieldSpec) -> str:
    default = f", default {field.default}" if field.default is not None else ""
    return (", unique" if field.unique else "") + ("" if field.required else ", optional") + default


def _show(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(getattr(v, "value", v)) for v in value) or "none"
    return str(getattr(value, "value", value))
