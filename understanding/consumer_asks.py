"""'When an order is created in orders-api, create a fulfillment': this service consumes
another's events and makes a row for each.

The clause is set aside before the entity readers run (an 'order' there is the other
service's, not one to build here), then read against the entities the request builds:
the entity made must be one of them, and it keeps the event's row id in `<entity>_id`
(added as an int field when the request did not list it). Which broker carries the
events is the publisher's to say: the delivery fills it in from the running service
(shipmate/consumers.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from understanding.names import singular
from understanding.result import Choice
from understanding.words import Request
from workflows.event_spec import ConsumerSpec, EventAction, Sink
from workflows.spec import Auth, EntitySpec, FieldSpec, FieldType, snake_case

SERVICE = r"(?P<publisher>[a-z][a-z0-9]*(?:-[a-z0-9]+)+)"
THING = r"(?:an?|each|every|any|new|the|some)\s+"
ACTIONS = {
    "created": EventAction.created,
    "added": EventAction.created,
    "placed": EventAction.created,
    "made": EventAction.created,
    "submitted": EventAction.created,
    "opened": EventAction.created,
    "registered": EventAction.created,
    "updated": EventAction.updated,
    "changed": EventAction.updated,
    "edited": EventAction.updated,
    "modified": EventAction.updated,
    "deleted": EventAction.deleted,
    "removed": EventAction.deleted,
    "cancelled": EventAction.deleted,
    "canceled": EventAction.deleted,
}
ACTION = rf"(?P<action>{'|'.join(ACTIONS)})"
ENTITY = r"(?P<entity>[a-z][a-z ]{0,40}?)"
WHERE = r"\s+(?:over\s+there\s+)?(?:in|on|by|at|from|within|inside)\s+(?:the\s+)?"
# 'when an order is created in orders-api, …', 'on every invoice created in billing-service'
WHEN = re.compile(
    r"\b(?:when(?:ever)?|each time|every time|once|after|if|on|for|every|each)\s+"
    rf"(?:{THING}){{0,3}}{ENTITY}\s+(?:(?:is|are|gets|get|has been|have been|was|were)\s+)?"
    rf"{ACTION}{WHERE}{SERVICE}\b"
)
# 'consumes orders-api's order events', 'listen for account deleted events from accounts-api'
LISTEN = r"\b(?:consumes?|consuming|listens?\s+(?:to|for)|subscribes?\s+to|reacts?\s+to)\s+"
CONSUMES = re.compile(
    rf"{LISTEN}(?:the\s+)?{SERVICE}(?:'s|’s)?\s+{ENTITY}\s+(?:{ACTION}\s+)?"
    r"(?:events?|messages?|changes?)\b"
)
CONSUMES_FROM = re.compile(
    rf"{LISTEN}(?:the\s+)?(?:{THING})?{ENTITY}\s+(?:{ACTION}\s*)?(?:events?|messages?|changes?)?"
    rf"\s*(?:from|of|in|on)\s+(?:the\s+)?{SERVICE}\b"
)
# 'when an order is created, create a fulfillment': which service has the orders is
# asked (with a button for each running service publishing them), and answered 'from …'.
# Only the trigger is set aside; what is made (and its fields) is read as any entity.
AUXILIARY = r"(?:is|are|gets?|has|have|had|was|were|been|and|of|or)\b"
WHEN_UNNAMED = re.compile(
    rf"\b(?:when(?:ever)?|each time|every time|once|after)\s+(?:{THING}){{0,2}}"
    rf"(?P<entity>(?!{AUXILIARY})[a-z]+(?:\s(?!{AUXILIARY})[a-z]+)?)\s+"
    rf"(?:(?:is|are|gets|get|has been|have been|was|were)\s+)?{ACTION}\b(?!{WHERE})"
    r"(?P<then>\s*[,;]?\s*(?:then\s+|we\s+should\s+|automatically\s+|please\s+)?"
    r"(?:create|make|add|open|record|start)\s+(?:an?|one|a\s+new|new)\s+)"
    r"(?P<made>[a-z]+(?:\s(?!with\b|for\b|and\b|that\b|which\b|linked\b)[a-z]+)?)\b"
)
# The answer: 'from orders-api', or, naming whose rows it answers for (as the buttons do),
# 'order events from orders-api'.
ANSWERED_FROM = re.compile(  # one line: never a line before it taken as its rows
    rf"^[ \t]*(?:(?:the[ \t]+)?(?P<about>[a-z][a-z ]{{0,40}}?)[ \t]+"
    rf"(?:(?:events?|changes?)[ \t]+)?)?from[ \t]+{SERVICE}[ \t]*$",
    re.MULTILINE,
)


@dataclass
class ConsumerAsk:
    publisher: str | None  # None: not said yet
    entity: str  # as written, singular words
    action: EventAction
    around: str  # where the entity it makes is named: its clause's rest, or a trigger's noun
    trigger: tuple[int, int] | None = None  # 'when an order is created' alone: where
    # the thread's answers to 'which service?' (rows named or None, publisher), kept on
    # an ask naming none until it is known whether the ask is asked at all
    answers: list[tuple[str | None, str]] = field(default_factory=list)


def set_aside(request: Request) -> list[ConsumerAsk]:
    """The consumer clauses of the request, blanked for the readers after this one."""
    asks: list[ConsumerAsk] = []
    said, taken = request.lowered, []
    for pattern in (WHEN, CONSUMES, CONSUMES_FROM, WHEN_UNNAMED):
        for match in pattern.finditer(said):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue
            taken.append(match.span())
            action = ACTIONS.get(match.group("action") or "created", EventAction.created)
            publisher = match.groupdict().get("publisher")
            if publisher is None:  # the trigger alone; the made entity is read as any is
                made = match.group("made")
                asks.append(ConsumerAsk(None, match.group("entity"), action, made, match.span()))
                request.blank(match.start(), match.start("then"))
                continue
            clause = _clause(said, match.start(), match.end())
            around = f"{said[clause[0] : match.start()]} | {said[match.end() : clause[1]]}"
            asks.append(ConsumerAsk(publisher, match.group("entity"), action, around))
            if re.search(r"\b(?:have|has|having|with)\b", said[clause[0] : match.start()]):
                clause = (match.start(), clause[1])  # entities are said there: keep them
            request.use(*clause)
            request.blank(*clause)
    unnamed = [ask for ask in asks if ask.publisher is None]
    answers = []  # one list, shared by the asks naming no publisher
    for answer in ANSWERED_FROM.finditer(said) if unnamed else []:
        about = answer.group("about")
        # a line naming rows nobody asked about ('invoices from billing-api') is no answer
        if about is None or any(_words(ask.entity) == _words(about) for ask in unnamed):
            answers.append((about, answer.group("publisher")))
            request.use(*answer.span())
            request.blank(*answer.span())
    for ask in unnamed:
        ask.answers = answers
    return asks


def _answer(unnamed: list[ConsumerAsk]) -> None:
    """Fill in the publishers of the asks that are asked, from the thread's answers.

    An answer naming whose rows ('order events from orders-api') answers that question,
    the latest one winning. A plain 'from x-api' goes to the question whose rows the
    service is named after ('from pay-svc': the payments) unless a named answer settled
    it; the other plain answers fill the questions still open in the order they were
    asked, so two questions are not both given one answer (with more answers than open
    questions, the latest are kept: corrections)."""
    answers = unnamed[0].answers if unnamed else []
    settled = set()
    for about, publisher in answers:
        for ask in unnamed if about else []:
            if _words(ask.entity) == _words(about):
                ask.publisher = publisher
                settled.add(id(ask))
    unplaced = []
    for about, publisher in answers:
        named_after = [ask for ask in unnamed if _named_after(publisher, ask.entity)]
        if about is not None:
            continue
        if len(named_after) == 1:
            if id(named_after[0]) not in settled:
                named_after[0].publisher = publisher
        else:
            unplaced.append(publisher)
    still_open = [ask for ask in unnamed if ask.publisher is None]
    kept = unplaced[-len(still_open) :] if still_open else []
    for ask, publisher in zip(still_open, kept, strict=False):
        ask.publisher = publisher


def _named_after(service: str, entity: str) -> bool:
    """'orders-api', 'pay-svc', 'user-profile-svc' for orders, payments and users."""
    first, words = singular(service.split("-")[0]), _words(entity)
    return first in (words[0], words[-1]) or (len(first) >= 3 and words[0].startswith(first))


def _words(entity: str) -> list[str]:
    return [singular(word) for word in entity.split()]


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence (or line, or part after a semicolon) around start..end."""
    before = max(text.rfind(mark, 0, start) for mark in (". ", ".\n", ";", "\n", ": "))
    after = [i for i in (text.find(m, end) for m in (". ", ";", "\n")) if i >= 0]
    return (before + 1 if before >= 0 else 0), (min(after) if after else len(text))


def consumers_for(
    asks: list[ConsumerAsk],
    entities: list[EntitySpec],
    choices: list[Choice],
    request: Request | None = None,
    signs_in: bool = True,
) -> tuple[list[ConsumerSpec], list[str], list[str]]:
    """The consumers the asks make of these entities (each given the field that links it),
    with questions and what was assumed; an ask naming no publisher adds a choice of the
    services publishing its entity. The broker is a placeholder the delivery replaces
    with the publisher's."""
    consumers, questions, assumed = [], [], []
    by_name = {entity.name: entity for entity in entities}
    for ask in _of_other_services(asks, entities, signs_in):
        entity = _pascal(ask.entity)
        made = _named(ask.around, entities) or (entities[0] if len(entities) == 1 else None)
        if ask.trigger and request is not None:
            request.use(*ask.trigger)
        if made is None:
            names = ", ".join(by_name) or "none yet"
            questions.append(
                f"For each {entity} {ask.action.value}{_in(ask)}, which of this "
                f"service's entities ({names}) should I make?"
            )
            continue
        if ask.publisher is None:
            choices.append(
                Choice(
                    question=f"Which service's {entity} {ask.action.value} events should make "
                    f"{_a(made.name)}? Answer `from <service>` (e.g. `from orders-api`).",
                    answers=[],
                    publishers_of=entity,
                )
            )
            continue
        link = f"{snake_case(entity)}_id"
        field = next((f for f in made.fields if f.name == link), None)
        if field is None:
            made.fields.append(FieldSpec(name=link, type=FieldType.int))
            assumed.append(f"{made.name}.{link}: the id of the {entity} it was made for")
        elif field.type != FieldType.int:
            questions.append(f"{made.name}.{link} keeps the {entity}'s id: can it be an int?")
            continue
        consumers.append(
            ConsumerSpec(
                publisher=ask.publisher,
                entity=entity,
                action=ask.action,
                sink=Sink.rabbitmq,
                creates=made.name,
                link=link,
            )
        )
    return consumers, questions, assumed


def _named(text: str, entities: list) -> EntitySpec | dict | None:
    """The entity (a spec, or a change's dict) the text names, the longest name first."""
    words = [singular(w) for w in re.findall(r"[a-z]+", text.lower())]
    spelled = sorted(
        ((snake_case(_name_of(e)).split("_"), e) for e in entities), key=lambda p: -len(p[0])
    )
    for i in range(len(words)):
        for parts, entity in spelled:
            if words[i : i + len(parts)] == parts:
                return entity
    return None


def _name_of(entity) -> str:
    return entity["name"] if isinstance(entity, dict) else entity.name


SIGNED_IN = ("User", "Account")  # 'when a user is registered': this service's own sign-ups


def _of_other_services(asks: list[ConsumerAsk], entities: list, signs_in: bool) -> list:
    """The asks about another service's rows: a trigger alone ('when an order is created,
    create an invoice') is one only when its made entity is this service's and the row
    it follows is not (its own rows changing is not an event it consumes; nor are its
    users', where people sign in to it). Those kept that name no publisher take it from
    the thread's answers, now that it is known which questions are asked."""
    names = [_name_of(e) for e in entities] + (list(SIGNED_IN) if signs_in else [])
    kept = []
    for ask in asks:
        own = _pascal(ask.entity) in names
        if ask.trigger and (own or _named(ask.around, entities) is None):
            continue
        kept.append(ask)
    _answer([ask for ask in kept if ask.publisher is None])
    return kept


def _a(words: str) -> str:
    return f"{'an' if words[:1].lower() in tuple('aeiou') else 'a'} {words}"


def _in(ask: ConsumerAsk) -> str:
    return f" in {ask.publisher}" if ask.publisher else ""


def _pascal(words: str) -> str:
    parts = words.split()
    parts[-1] = singular(parts[-1])
    return "".join(part.capitalize() for part in parts)


def change_consumers(spec: dict, entities: dict[str, dict], clause: str):
    """A change's clause that asks to consume another service's events, applied to the
    spec's consumers (the spec as a dict): None when it asks nothing of the kind, else
    (whether they changed, a problem to say instead). The link field comes optional: rows
    there already were made for no event."""
    consumers, signs_in = spec["consumers"], spec.get("auth", Auth.none) != Auth.none
    asks = _of_other_services(set_aside(Request(clause)), list(entities.values()), signs_in)
    if not asks:
        return None
    changed = False
    for ask in asks:
        names = list(entities)
        entity = _pascal(ask.entity)
        made = _named(ask.around, list(entities.values()))
        made = made or (entities[names[0]] if len(names) == 1 else None)
        if made is None:
            return False, (
                f"For each {entity} {ask.action.value}{_in(ask)}, which of "
                f"{', '.join(names)} should I make?"
            )
        made_name = made["name"]
        if ask.publisher is None:
            return False, (
                f"Which service's {entity} {ask.action.value} events should make a "
                f"{made_name}? Say it with the service: `when {_a(ask.entity)} is "
                f"{ask.action.value} in <service>, create a "
                f"{snake_case(made_name).replace('_', ' ')}`."
            )
        link = f"{snake_case(entity)}_id"
        field = next((f for f in made["fields"] if f["name"] == link), None)
        if field is None:
            made["fields"].append({"name": link, "type": "int", "required": False})
        elif field["type"] != FieldType.int:
            return False, f"{made_name}.{link} keeps the {entity}'s id: can it be an int?"
        consumer = {
            "publisher": ask.publisher,
            "entity": entity,
            "action": ask.action.value,
            "sink": Sink.rabbitmq.value,
            "creates": made_name,
            "link": link,
        }
        if not any({**c, "sink": ""} == {**consumer, "sink": ""} for c in consumers):
            consumers.append(consumer)
            changed = True
    return changed, None
