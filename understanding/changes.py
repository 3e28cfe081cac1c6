"""Change requests on a running service, and the readable diff between two spec versions.

"add a status field to orders", "also add a status field" (to the only entity), "make
email unique", "add a Product entity with name and price", "prescriptions belong to
patients", "add cancelled to the status choices", "remove notes from orders", "also
deploy to prod", "publish order changes to SQS": each becomes the next spec version;
a rename, which would lose the column's values, and anything else become questions.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from understanding.consumer_asks import change_consumers
from understanding.event_asks import change_events, events_diff
from understanding.fields import find_choices, read_fields
from understanding.links import LINKS
from understanding.names import entity_name, singular, split_camel
from understanding.permissions import change_rules
from understanding.result import PlanResult, questions_from_validation
from understanding.sign_in_words import change_sign_in
from understanding.vocabulary import ENVIRONMENTS, MAX_REQUEST_CHARS
from understanding.words import Request
from workflows.field_defaults import EXAMPLE_DEFAULTS, existing_rows_value
from workflows.permissions import rules_diff
from workflows.spec import (
    EntitySpec,
    FieldSpec,
    RelationSpec,
    ServiceSpec,
    snake_case,
)

EXAMPLES = (
    "I didn't catch the change. Try e.g. 'add a status field to orders', 'make email "
    "unique', 'add a Product entity with name and price', 'remove notes from orders' or "
    "'also deploy to prod'."
)

ADD_ENTITY = re.compile(
    r"\badd (?:an? |new |another )*([a-z]+(?: [a-z]+)?) (?:entity|model|table|resource)"
    r"(?: (?:with|having|containing)(?: fields?)? (.+))?"
    r"|\badd (?:an? |new |another )*([a-z]+(?: [a-z]+)?) ?\(([^()]+)\)$"
)
ADD_CHOICE = re.compile(
    r"\badd (?:an? )?(?:value |option |choice |state )?([a-z0-9_-]+) (?:as an? (?:value|option|"
    r"choice|state) )?(?:to|for) (?:the )?([a-z_]+)(?: (?:values|choices|options|states|enum))?$"
)
ADD_FIELDS = re.compile(
    r"\b(?:add|include|store|track|record|keep)s? (?:an? |the )?(?:fields? )?(.+?)"
    r"(?: (?:fields?|columns?))?"
    r"(?: (?:to|on|for|in|onto) (?:the |each |every |all )?([a-z]+(?: [a-z]+)?))?$"
    r"|\b(?:give|let) (?:the |each |every |all )?([a-z]+) (?:an? |the )?(.+)$"
    r"|\b([a-z]+) (?:should|must|need to|needs to) (?:also )?(?:have|get|store|carry) "
    r"(?:an? |the )?(.+)$"
)
RENAME = re.compile(
    r"\brename (?:the )?([a-z_]+)(?: field)?(?: (?:on|of|in) (?:the )?([a-z]+))? to ([a-z_]+)"
)
REMOVE_FIELD = re.compile(
    r"\b(?:remove|drop|delete) (?:the )?([a-z_]+)(?: field)?(?: (?:from|on|of) (?:the )?([a-z]+))?$"
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


class Change:
    """One change request applied to a copy of the running spec."""

    def __init__(self, base: ServiceSpec, text: str) -> None:
        self.base = base
        self.text = text
        self.data = base.model_dump()
        self.entities = {e["name"]: e for e in self.data["entities"]}
        self.problems: list[str] = []
        self.changed = False

    def entity(self, words: str | None, what: str) -> dict | None:
        """The entity a clause names, or the only one there is when it names none."""
        if words:
            name = entity_name(words.split()[-2:]) or singular(words).capitalize()
            if name in self.entities:
                return self.entities[name]
            if words.split()[-1] not in ("it", "them", "service", "api", "everything"):
                known = ", ".join(self.entities) or "none"
                self.problems.append(f"There is no entity {name} (entities: {known}).")
                return None
        if len(self.entities) == 1:
            return next(iter(self.entities.values()))
        self.problems.append(
            f"Which entity should {what} go on ({', '.join(self.entities)})? "
            f"Say e.g. 'add {what} to {snake_case(next(iter(self.entities))).replace('_', ' ')}s'."
        )
        return None

    def fields_named(self, field: str, entity_word: str | None) -> list[dict]:
        wanted = singular(entity_word).capitalize() if entity_word else None
        return [
            f
            for name, e in self.entities.items()
            if wanted in (None, name)
            for f in e["fields"]
            if f["name"] == field
        ]


# Where one clause of a change ends and the next begins beside . ; and new lines.
AND_THEN = re.compile(r"\balso\b|\band then\b|,?\s+and\s+(?=(?:stop\s+)?publish|(?:use|switch)\b)")


def parse_change(base: ServiceSpec, text: str) -> PlanResult:
    if len(text) > MAX_REQUEST_CHARS:
        return PlanResult(
            questions=[
                f"That change is {len(text):,} characters; I read at most "
                f"{MAX_REQUEST_CHARS:,}. Could you say it in a few sentences?"
            ]
        )
    change = Change(base, text)
    request = Request(text)
    choices = find_choices(request)
    for clause in re.finditer(r"(?:[^.;\n]|\.(?!\s|$))+", request.lowered):
        for part in re.split(AND_THEN, clause.group()):
            part = re.sub(r"(?:\s+\b(?:and|then|too|please|as well))+$", "", part.strip())
            if part:
                _apply(change, part, request, choices, clause.start() + clause.group().find(part))

    if change.problems:
        return PlanResult(questions=change.problems)
    if not change.changed:
        return PlanResult(questions=[EXAMPLES])
    data = change.data
    data["entities"] = list(change.entities.values())
    data["version"] = base.version + 1
    try:
        spec = ServiceSpec(**data)
    except ValidationError as exc:
        return PlanResult(questions=questions_from_validation(exc))
    if missing := _values_existing_rows_lack(base, spec):
        return PlanResult(questions=missing)
    return PlanResult(spec=spec, diff=spec_diff(base, spec))


def _apply(change: Change, clause: str, request: Request, choices, at: int) -> None:
    """One clause of a change request: the first form that reads it applies."""
    if match := RENAME.search(clause):
        change.problems.append(
            f"Renaming {match.group(1)} to {match.group(3)} would lose the values it holds: I "
            f"can't rename with the data yet. Say 'add {match.group(3)} to …' to add it beside "
            f"{match.group(1)}, or 'remove {match.group(1)} from …' to drop it."
        )
        return
    if _link(change, clause):
        return
    if change_rules(change.data, change.entities, clause, change.problems):
        change.changed = True
        return
    if match := ADD_ENTITY.search(clause):
        group = 1 if match.group(1) else 3
        written = change.text[at + match.start(group) : at + match.end(group)]
        noun = entity_name([w for word in written.split()[-2:] for w in split_camel(word)])
        if noun and noun not in change.entities:
            fields_at = match.start(2) if match.group(2) else match.start(4)
            problems: list[str] = []
            fields = []
            if fields_at >= 0:
                end = match.end(2) if match.group(2) else match.end(4)
                fields = read_fields(request, at + fields_at, at + end, choices, problems)
            change.problems += problems
            links = [f for f in fields if _entity_named(change, f.name)]
            fields = [f for f in fields if f not in links] or [FieldSpec(name="name")]
            change.entities[noun] = EntitySpec(name=noun, fields=fields).model_dump()
            for link in links:
                target = _entity_named(change, link.name)
                _add_link(change, change.entities[noun], link.name.removesuffix("_id"), target)
            change.changed = True
        elif noun:
            change.problems.append(f"{change.base.name} already has an entity {noun}.")
        return
    if (match := ADD_CHOICE.search(clause)) and (listed := _choice_field(change, match.group(2))):
        if match.group(1) not in listed["choices"]:
            listed["choices"] = [*listed["choices"], match.group(1)]
            change.changed = True
        return
    if match := REMOVE_FIELD.search(clause):
        entity = change.entity(match.group(2), match.group(1)) if match.group(2) else None
        hits = [entity] if entity else list(change.entities.values())
        removed = False
        for each in hits:
            before = len(each["fields"])
            each["fields"] = [f for f in each["fields"] if f["name"] != match.group(1)]
            removed = removed or len(each["fields"]) != before
        if not removed and (entity or not match.group(2)):
            change.problems.append(f"No field called {match.group(1)} in {change.base.name}.")
        change.changed = change.changed or removed
        return
    if match := DEFAULT_FIELD.search(clause):
        groups = match.groups()
        name, where, value = groups[:3] if groups[0] else groups[3:]
        hits = change.fields_named(name, where)
        if not hits:
            change.problems.append(f"No field called {name} in {change.base.name}.")
        # the value as written: an email or a datetime keeps its case
        written = re.search(re.escape(value.strip()), change.text, re.IGNORECASE)
        value = written.group(0) if written else value
        for field in hits:
            field["default"] = value.strip().strip("'\"`")
            change.changed = True
        return
    if match := MAKE_FIELD.search(clause):
        hits = change.fields_named(match.group(1), match.group(2))
        if not hits:
            change.problems.append(f"No field called {match.group(1)} in {change.base.name}.")
        for field in hits:
            if match.group(3) == "unique":
                field["unique"] = True
            else:
                field["required"] = match.group(3) == "required"
            change.changed = True
        return
    said = change_consumers(change.data, change.entities, clause)
    if said is None:
        said = change_events(change.data["events"], list(change.entities), clause, change.text)
    if said is None:
        said = change_sign_in(change.data, clause)
    if said is not None:
        changed, problem = said
        change.changed = change.changed or changed
        change.problems += [problem] if problem else []
        return
    if re.search(r"\bdeploy", clause):
        envs = [ENVIRONMENTS[w] for w in re.findall(r"[a-z]+", clause) if w in ENVIRONMENTS]
        environments = change.data["deploy"]["environments"]
        added = [e for e in dict.fromkeys(envs) if e not in environments]
        environments += added
        change.changed = change.changed or bool(added)
        return
    if match := ADD_FIELDS.search(clause):
        _add_fields(change, clause, match, request, choices, at)


def _add_fields(change: Change, clause: str, match: re.Match, request, choices, at: int) -> None:
    fields_group, entity_group = (1, 2) if match.group(1) else (4, 3) if match.group(3) else (6, 5)
    entity_words = match.group(entity_group)
    fields_text = match.group(fields_group)
    problems: list[str] = []
    start = at + match.start(fields_group)
    fields = read_fields(request, start, start + len(fields_text), choices, problems)
    change.problems += problems
    if not fields:
        return
    entity = change.entity(entity_words, " and ".join(f.name for f in fields))
    if entity is None:
        return
    for field in fields:
        if any(f["name"] == field.name for f in entity["fields"]):
            change.problems.append(f"{entity['name']} already has a field {field.name}.")
        elif target := _entity_named(change, field.name):
            _add_link(change, entity, field.name.removesuffix("_id"), target)
        else:
            entity["fields"].append(field.model_dump())
            change.changed = True


def _entity_named(change: Change, field_name: str) -> str | None:
    base = field_name.removesuffix("_id")
    return next((name for name in change.entities if snake_case(name) == base), None)


def _link(change: Change, clause: str) -> bool:
    """'prescriptions belong to patients', 'a patient has many prescriptions'."""
    for pattern in LINKS:
        if match := re.search(pattern, clause):
            child = entity_name([match.group("child")])
            parent = entity_name([match.group("parent")])
            for name in (child, parent):
                if name not in change.entities:
                    known = ", ".join(change.entities)
                    change.problems.append(f"There is no entity {name} (entities: {known}).")
                    return True
            _add_link(change, change.entities[child], snake_case(parent), parent)
            return True
    return False


def _add_link(change: Change, entity: dict, name: str, target: str) -> None:
    if any(r["name"] == name for r in entity["relations"]):
        change.problems.append(f"{entity['name']} already points at {target}.")
        return
    # existing rows have no value for it yet, so the link starts optional
    entity["relations"].append(RelationSpec(name=name, target=target, required=False).model_dump())
    entity["fields"] = [f for f in entity["fields"] if f["name"] != name]
    change.changed = True


def _choice_field(change: Change, name: str) -> dict | None:
    hits = [f for f in change.fields_named(name, None) if f.get("choices")]
    return hits[0] if len(hits) == 1 else None


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
                example = field.choices[0] if field.choices else EXAMPLE_DEFAULTS[field.type]
                questions.append(
                    f"{what}. Say the value ('default {field.name} to {example}') or make it "
                    f"optional ('make {field.name} optional')."
                )
    return questions


def spec_diff(old: ServiceSpec, new: ServiceSpec) -> list[str]:
    """What changed between two versions, one readable line per change."""
    lines: list[str] = []
    before = {e.name: e for e in old.entities}
    after = {e.name: e for e in new.entities}
    for name in [n for n in after if n not in before]:
        parts = [f.name for f in after[name].fields]
        parts += [f"{r.name} → {r.target}" for r in after[name].relations]
        lines.append(f"+ entity {name} ({', '.join(parts)})")
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
    lines += rules_diff(old, new)
    for attribute in ("database", "auth", "api", "roles"):
        if getattr(old, attribute) != getattr(new, attribute):
            lines.append(
                f"~ {attribute}: {_show(getattr(old, attribute))} → "
                f"{_show(getattr(new, attribute))}"
            )
    lines += events_diff(old, new)
    if old.deploy != new.deploy:
        was = f"{old.deploy.target.value} {' → '.join(old.deploy.environments)}"
        now = f"{new.deploy.target.value} {' → '.join(new.deploy.environments)}"
        lines.append(f"~ deploy: {was} ⇒ {now}")
    return lines


def _flags(field: FieldSpec) -> str:
    default = f", default {field.default}" if field.default is not None else ""
    if field.choices:
        default = f", one of {'/'.join(field.choices)}" + default
    return (", unique" if field.unique else "") + ("" if field.required else ", optional") + default


def _show(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(getattr(v, "value", v)) for v in value) or "none"
    return str(getattr(value, "value", value))
