"""The plan language: the compact spec the plan card shows, as text a person reads, edits
and may type, which `read` turns back into exactly the ServiceSpec `render` wrote.

    service orders-api
    database postgresql · api rest, graphql · auth jwt · roles clerk
    deploy local: staging > prod
    Customer: name str, email email unique, note text optional
    Order: total decimal default 0.00, status str in (pending, paid, shipped) default pending,
        customer -> Customer required on delete cascade
    Order keeps delete to admin only; create, update to admin, clerk
    events Order to sqs
    consumes payments-api Payment created -> Order.payment_id via nats

(An entity is one line; it is folded here only to fit.) One thing per line, and `·` also
parts things on one line. Keywords (which may take a colon: `service: orders-api`), types,
flags and enum values are read in any case, and flags in any order; names are read as
typed. Spaces are free; blank lines, lines starting with #, ``` fences and a leading • are
skipped; the card's own forms read too (`->` or `→`, `in pending/paid`, `REST + GraphQL`).

    service NAME           the kebab-case name: the one line a plan must have
    database DB            postgresql, mysql, sqlite, mongodb or dynamodb (else postgresql)
    api KIND, ...          rest, graphql, grpc in order, or none (else rest)
    auth KIND              jwt, oauth2 or none (else none)
    roles ROLE, ...        the service's roles; admin it always has
    deploy TARGET: ENV > ENV   local, aws-ecs, aws-lambda or none, then the environments in
                           order (> , or →); ": no environments" for none; without ":", staging
    Entity: ITEM, ...      an entity (PascalCase) with its fields and links, in order:
      a field              name [type] [in (a, b, c)] [default VALUE] [unique] [indexed]
                           [personal|sensitive|not-personal] [optional|required];
                           indexed: filters and sorts read an index; personal or
                           sensitive: data about a person (unsaid, read from the name)
                           type: str (if left out), text, int, float, decimal, bool, date,
                           datetime, uuid or email; a field is required unless `optional`
      a link               name -> Entity [required|optional] [on delete cascade|refuse]
                           a link is optional and refuses deletes unless said otherwise
    Entity keeps ACTIONS to ROLES; ...   who may read, create, update or delete its rows
                           besides admin ("to admin only": admin alone); others keep the default
    events Entity [to SINK], ...   where the entity's changes go (sqs if left out)
    consumes SERVICE Entity ACTION -> Made.field [via SINK]   for each ACTION (created,
                           updated, deleted) of SERVICE's Entity, a Made here with `field`
                           its id; one line each (the sink: rabbitmq if left out)

A VALUE or SINK is a word, or "quoted text" with JSON escapes (\\" \\n \\u00a0) when it holds
spaces, quotes, commas, parentheses, · or invisible characters.

Not in the language: description, stack and version: they are not what a person plans.
`read` leaves them at their defaults, or takes them from `base`; so
read(render(spec), base=spec) == spec, and without base the rest of the spec is equal.
Lists are read as written, in order; a name said twice in one list is an error. Anything
wrong raises PlanLanguageError(line, reason): the line counted from 1, the reason one line
of words (a ServiceSpec validation error says what the validator says).
"""

from __future__ import annotations

import difflib
import re
from types import SimpleNamespace

from pydantic import ValidationError

from understanding.plan_grammar import (
    ARROWS,
    PRIVACY_FLAGS,
    PlanLanguageError,
    built,
    clauses,
    distinct,
    member,
    quoted,
    read_field,
    read_link,
    read_value,
    reason_of,
    split_on,
    tokenize,
    word_list,
)
from workflows.event_spec import ConsumerSpec, EventAction, Sink
from workflows.permissions import Action, check_permissions
from workflows.spec import (
    Api,
    Auth,
    Database,
    DeploySpec,
    DeployTarget,
    EntitySpec,
    EventSpec,
    FieldSpec,
    OnDelete,
    RelationSpec,
    ServiceSpec,
)

__all__ = ["PlanLanguageError", "read", "render"]

KEYWORDS = ("service", "database", "api", "auth", "roles", "deploy", "events", "consumes")
CONSUMES = re.compile(
    r"([a-z][a-z0-9-]*)\s+(\w+)\s+(\w+)\s*(?:->|→)\s*(\w+)\.(\w+)(?:\s+via\s+(\w+))?\s*$"
)
ALIASES = {"apis": "api", "role": "roles", "event": "events", "db": "database"}
KNOWN = (*KEYWORDS, *ALIASES)
NO_ENVIRONMENTS = "no environments"

SAID_PRIVACY = {privacy: word for word, privacy in PRIVACY_FLAGS.items()}


# A plan starts with its service line ('service orders-api'), alone on its line.
PLAN_START = re.compile(r"^\s*(?:```\s*)?service\s*:?\s+[a-z][a-z0-9-]*\s*$", re.I)


def starts_like_a_plan(text: str) -> bool:
    """A service line first, and more lines after it: worth reading as a plan."""
    lines = [line for line in unfenced(text).splitlines() if line.strip()]
    return len(lines) >= 2 and bool(PLAN_START.match(re.sub(r"<@[A-Z0-9]+>", "", lines[0])))


def unfenced(text: str) -> str:
    """A plan as pasted in Slack: ``` fences anywhere (```service …```) set apart."""
    return text.replace("```", "\n")


def render(spec: ServiceSpec) -> str:
    """The plan, one thing per line: what `read` reads back."""
    head = [f"database {spec.database.value}", f"api {', '.join(spec.api) or 'none'}"]
    head += [f"auth {spec.auth.value}"] + ([f"roles {', '.join(spec.roles)}"] if spec.roles else [])
    envs = " > ".join(spec.deploy.environments) or NO_ENVIRONMENTS
    lines = [f"service {spec.name}", " · ".join(head), f"deploy {spec.deploy.target.value}: {envs}"]
    for entity in spec.entities:
        items = [_field_text(f) for f in entity.fields] + [_link_text(r) for r in entity.relations]
        lines.append(f"{entity.name}: {', '.join(items)}".rstrip())
        if entity.permissions:
            lines.append(_rules_text(entity))
    if spec.events:
        sinks = ", ".join(f"{event.entity} to {quoted(event.sink)}" for event in spec.events)
        lines.append(f"events {sinks}")
    for c in spec.consumers:
        made = f"{c.creates}.{c.link}"
        lines.append(f"consumes {c.publisher} {c.entity} {c.action} -> {made} via {c.sink}")
    return "\n".join(lines)


def _field_text(field: FieldSpec) -> str:
    words = [field.name, field.type.value]
    words += [f"in ({', '.join(field.choices)})"] if field.choices else []
    words += ["default", quoted(field.default)] if field.default is not None else []
    words += ["unique"] if field.unique else []
    words += ["indexed"] if field.indexed else []
    words += [SAID_PRIVACY[field.privacy]] if field.privacy is not None else []
    words += [] if field.required else ["optional"]
    return " ".join(words)


def _link_text(relation: RelationSpec) -> str:
    words = [relation.name, "->", relation.target]
    words += ["required"] if relation.required else []
    words += ["on delete cascade"] if relation.on_delete == OnDelete.cascade else []
    return " ".join(words)


def _rules_text(entity: EntitySpec) -> str:
    groups: dict[tuple[str, ...], list[str]] = {}  # actions kept to the same roles go together
    for action in Action:
        if action in entity.permissions:
            groups.setdefault(tuple(entity.permissions[action]), []).append(action.value)
    rules = [
        f"{', '.join(acts)} to {', '.join(who) or 'admin only'}" for who, acts in groups.items()
    ]
    return f"{entity.name} keeps {'; '.join(rules)}"


def read(text: str, *, base: ServiceSpec | None = None) -> ServiceSpec:
    """The ServiceSpec a plan says, or a PlanLanguageError naming the line and what is wrong.
    Description, stack and version come from `base` when given (they are not planned)."""
    plan = _Plan()
    for line, clause in clauses(text):
        clause = re.sub(r"^[•*]\s+", "", clause.strip())  # a bullet copied from the card
        if clause and not clause.startswith(("#", "```")):
            plan.take(line, clause)
    return plan.spec(base)


class _Plan:
    def __init__(self) -> None:
        self.values: dict[str, object] = {}  # ServiceSpec's fields, as read so far
        self.lines: dict[str, int] = {}  # ... and the line each came from
        self.entities: list[tuple[int, EntitySpec]] = []
        self.rules: list[tuple[int, str, Action, list[str]]] = []
        self.events: list[tuple[int, EventSpec]] = []
        self.consumers: list[tuple[int, ConsumerSpec]] = []

    def take(self, line: int, clause: str) -> None:
        # `Name: …` is an entity and `Name keeps …` its rules, unless Name is a keyword
        # in lowercase (`service: orders-api`, `events Keeps to sqs`)
        entity = re.match(r"(\w+)\s*:(.*)$", clause, re.S)
        if entity and not _keyword(entity[1]):
            return self._entity(line, entity[1], entity[2])
        rule = re.match(r"(\w+)\s+keeps\s+(.*)$", clause, re.S | re.I)
        if rule and not _keyword(rule[1]):
            return self._rules(line, rule[1], tokenize(rule[2]))
        word, rest = re.match(r"([^\s:]+)\s*:?\s*(.*)$", clause, re.S).groups()
        key = ALIASES.get(word.lower(), word.lower())
        if key not in KEYWORDS:
            raise PlanLanguageError(line, _unknown(word))
        field = "name" if key == "service" else key
        if key not in ("events", "consumes") and field in self.lines:
            raise PlanLanguageError(
                line, f"{key} is said twice (first on line {self.lines[field]})"
            )
        if key == "deploy":
            return self._deploy(line, rest)
        if key == "events":
            return self._events(line, split_on(tokenize(rest)))
        if key == "consumes":
            return self._consumes(line, rest)
        tokens = tokenize(rest)
        if key == "api":  # `REST + GraphQL`, as the card writes it
            tokens = [("," if t.lower() in ("+", "and") else t) for t in tokens]
        words = word_list(tokens, line, key)
        if key in ("service", "database", "auth") and len(words) != 1:
            raise PlanLanguageError(line, f"{key} takes one word, like: {key} {_example(key)}")
        self.lines[field] = line
        if key == "service":
            self.values["name"] = words[0]
        elif key in ("database", "auth"):
            self.values[key] = member(Database if key == "database" else Auth, words[0], line)
        elif key == "api":
            none = [w.lower() for w in words] == ["none"]
            self.values["api"] = distinct(
                [] if none else [member(Api, w, line) for w in words], line
            )
        else:
            self.values["roles"] = distinct(words, line)

    def _deploy(self, line: int, rest: str) -> None:
        target, colon, envs = (part.strip() for part in rest.partition(":"))
        if not target or " " in target:
            raise PlanLanguageError(line, "deploy reads like: deploy local: staging > prod")
        found = [e for e in re.split(r"\s*(?:>|→|,)\s*", envs) if e]
        if " ".join(envs.lower().split()) == NO_ENVIRONMENTS:
            found = []
        elif not colon:
            found = ["staging"]
        kind = member(DeployTarget, target, line, what="deploy target")
        self.values["deploy"] = built(line, DeploySpec, target=kind, environments=found)
        self.lines["deploy"] = line

    def _entity(self, line: int, name: str, body: str) -> None:
        for seen, entity in self.entities:
            if entity.name == name:
                raise PlanLanguageError(line, f"{name} is listed twice (first on line {seen})")
        fields, links = [], []
        for item in split_on(tokenize(body)):
            if item[0] in ARROWS or item[0][0] in '"(),;':
                raise PlanLanguageError(line, f"{name}: each field starts with its name")
            if len(item) > 1 and item[1] in ARROWS:
                links.append(read_link(item, line))
            else:
                fields.append(read_field(item, line))
        entity = built(line, EntitySpec, name=name, fields=fields, relations=links)
        self.entities.append((line, entity))

    def _rules(self, line: int, name: str, tokens: list[str]) -> None:
        for part in split_on(tokens, ";"):
            lowered = [token.lower() for token in part]
            if "to" not in lowered:
                raise PlanLanguageError(line, "a rule reads like: Order keeps delete to admin")
            at = lowered.index("to")
            said = word_list(part[:at], line, "a rule")
            actions = distinct([member(Action, w, line) for w in said], line)
            who = part[at + 1 :]
            alone = [w.lower() for w in who] == ["admin", "only"]
            roles = [] if alone else word_list(who, line, "a rule")
            for action in actions:
                if any((n, a) == (name, action) for _, n, a, _ in self.rules):
                    raise PlanLanguageError(line, f"who may {action} {name} is said twice")
                self.rules.append((line, name, action, distinct(roles, line)))

    def _events(self, line: int, items: list[list[str]]) -> None:
        for entity, *rest in items:
            if rest and (len(rest) != 2 or rest[0].lower() != "to"):
                raise PlanLanguageError(line, "an event reads like: events Order to sqs")
            sink = member(Sink, read_value(rest[1], line), line, "sink") if rest else Sink.sqs
            event = EventSpec(entity=entity, sink=sink)
            if any(event == seen for _, seen in self.events):
                raise PlanLanguageError(line, f"{entity} to {event.sink} is listed twice")
            self.events.append((line, event))

    def _consumes(self, line: int, rest: str) -> None:
        said = CONSUMES.match(rest.strip())
        if not said:
            why = "a consumer reads like: consumes orders-api Order created -> Fulfillment.order_id"
            raise PlanLanguageError(line, why)
        publisher, entity, action, creates, link, sink = said.groups()
        consumer = built(
            line,
            ConsumerSpec,
            publisher=publisher,
            entity=entity,
            action=member(EventAction, action, line, "action"),
            creates=creates,
            link=link,
            sink=member(Sink, sink, line, "sink") if sink else Sink.rabbitmq,
        )
        self.consumers.append((line, consumer))

    def spec(self, base: ServiceSpec | None) -> ServiceSpec:
        if "name" not in self.values:
            raise PlanLanguageError(1, "a plan names its service: service orders-api")
        where = {entity.name: line for line, entity in self.entities}
        for line, entity in self.entities:
            for link in entity.relations:
                if link.target not in where:
                    why = f"{entity.name}.{link.name} links to {link.target}, not an entity here"
                    raise PlanLanguageError(line, why)
        for line, event in self.events:
            if event.entity not in where:
                raise PlanLanguageError(line, f"events for {event.entity}: not an entity here")
        kept: dict[str, dict[Action, list[str]]] = {}
        for line, name, action, roles in self.rules:
            if name not in where:
                raise PlanLanguageError(line, f"rules for {name}, which is not an entity here")
            kept.setdefault(name, {})[action] = roles
            service = SimpleNamespace(
                roles=self.values.get("roles", []),
                auth=self.values.get("auth", Auth.none),
                entities=[SimpleNamespace(name=name, permissions=kept[name])],
            )
            built(line, check_permissions, service)
        entities = [
            e.model_copy(update={"permissions": kept.get(e.name, {})}) for _, e in self.entities
        ]
        kept_back = base.model_dump(include={"description", "stack", "version"}) if base else {}
        values = {**self.values, **kept_back, "entities": entities}
        values["events"] = [event for _, event in self.events]
        values["consumers"] = [consumer for _, consumer in self.consumers]
        try:
            return ServiceSpec(**values)
        except ValidationError as error:
            reason, place = reason_of(error), error.errors()[0]["loc"][:1]
            named = [line for name, line in where.items() if re.search(rf"\b{name}\b", reason)]
            line = self.lines.get(str(place[0]) if place else "", max(named, default=1))
            raise PlanLanguageError(line, reason) from None


def _keyword(word: str) -> bool:
    return word[0].islower() and word.lower() in KNOWN


def _unknown(word: str) -> str:
    near = difflib.get_close_matches(word.lower(), KNOWN, n=1, cutoff=0.75)
    hint = f"; did you mean {ALIASES.get(near[0], near[0])}?" if near else ""
    if not near and word[:1].isupper():
        hint = f"; an entity reads like: {word.rstrip(':')}: name str, total decimal"
    return f"unknown keyword {word!r}{hint}"


def _example(key: str) -> str:
    return {"service": "orders-api", "database": "postgresql", "auth": "jwt"}[key]
