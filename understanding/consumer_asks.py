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
from dataclasses import dataclass

from understanding.names import singular
from understanding.words import Request
from workflows.event_spec import ConsumerSpec, EventAction, Sink
from workflows.spec import EntitySpec, FieldSpec, FieldType, snake_case

SERVICE = r"(?P<publisher>[a-z][a-z0-9]*(?:-[a-z0-9]+)+)"
THING = r"(?:an?|each|every|any|new|the)\s+"
ACTIONS = {
    "created": EventAction.created,
    "added": EventAction.created,
    "placed": EventAction.created,
    "made": EventAction.created,
    "submitted": EventAction.created,
    "updated": EventAction.updated,
    "changed": EventAction.updated,
    "edited": EventAction.updated,
    "modified": EventAction.updated,
    "deleted": EventAction.deleted,
    "removed": EventAction.deleted,
    "cancelled": EventAction.deleted,
    "canceled": EventAction.deleted,
}
MAKE = r"(?:create|make|add|open|record|insert|start)s?\s+(?:an?\s+|one\s+|a\s+new\s+)?"
WHEN = re.compile(
    r"\b(?:when(?:ever)?|each time|every time|once|after|if)\s+"
    rf"(?:{THING})*(?P<entity>[a-z][a-z ]{{1,40}}?)\s+(?:is|gets|has been|was)\s+"
    rf"(?P<action>{'|'.join(ACTIONS)})\s+(?:in|on|by|at|from)\s+{SERVICE}"
    r"[\s,;:-]*(?:then\s+|we\s+(?:should\s+|want\s+to\s+)?|please\s+|it\s+should\s+)?"
    rf"{MAKE}(?P<creates>[a-z][a-z ]{{1,40}}?)\b"
    r"(?=\s*(?:$|[.;,\n]|\s(?:for|with|row|record|linked|that)\b))"
)
CONSUMES = re.compile(
    rf"\b(?:consumes?|consuming|listens?\s+(?:to|for)|subscribes?\s+to|reacts?\s+to)\s+"
    rf"(?:the\s+)?{SERVICE}(?:'s|’s)?\s+(?P<entity>[a-z][a-z ]{{1,40}}?)\s+"
    rf"(?:(?P<action>{'|'.join(ACTIONS)})\s+)?(?:events?|messages?|changes?)\b"
)


@dataclass
class ConsumerAsk:
    publisher: str
    entity: str  # as written, singular words
    action: EventAction
    creates: str | None  # as written; None: the service's one entity


def set_aside(request: Request) -> list[ConsumerAsk]:
    """The consumer clauses of the request, blanked for the readers after this one."""
    asks = []
    for pattern in (WHEN, CONSUMES):
        for match in pattern.finditer(request.lowered):
            action = ACTIONS.get(match.group("action") or "created", EventAction.created)
            creates = match.groupdict().get("creates")
            asks.append(
                ConsumerAsk(match.group("publisher"), match.group("entity"), action, creates)
            )
            request.use(match.start(), match.end())
            request.blank(match.start(), match.end())
    return asks


def consumers_for(
    asks: list[ConsumerAsk], entities: list[EntitySpec], service: str | None = None
) -> tuple[list[ConsumerSpec], list[str], list[str]]:
    """The consumers the asks make of these entities (each given the field that links it),
    with questions and what was assumed. The broker is a placeholder the delivery
    replaces with the publisher's."""
    consumers, questions, assumed = [], [], []
    by_name = {entity.name: entity for entity in entities}
    for ask in asks:
        entity = _pascal(ask.entity)
        if ask.creates:
            made = by_name.get(_pascal(ask.creates))
        else:
            made = entities[0] if len(entities) == 1 else None
        if made is None:
            what = _pascal(ask.creates) if ask.creates else "a row"
            names = ", ".join(by_name) or "none yet"
            questions.append(
                f"For each {entity} {ask.action.value} in {ask.publisher} I make {what}, but "
                f"that isn't an entity of this service ({names}). Which one should I make?"
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


def _pascal(words: str) -> str:
    parts = words.split()
    parts[-1] = singular(parts[-1])
    return "".join(part.capitalize() for part in parts)


def change_consumers(consumers: list[dict], entities: dict[str, dict], clause: str):
    """A change's clause that asks to consume another service's events, applied to the
    spec's consumers (as dicts): None when it asks nothing of the kind, else (whether they
    changed, a problem to say instead). The link field comes optional: rows there already
    were made for no event."""
    asks = set_aside(Request(clause))
    if not asks:
        return None
    changed = False
    for ask in asks:
        names = list(entities)
        made_name = _pascal(ask.creates) if ask.creates else (names[0] if len(names) == 1 else "")
        made = entities.get(made_name)
        entity = _pascal(ask.entity)
        if made is None:
            return False, (
                f"For each {entity} {ask.action.value} in {ask.publisher} I'd make "
                f"{made_name or 'a row'}, but that isn't an entity here ({', '.join(names)})."
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
