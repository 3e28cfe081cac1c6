"""'Publish order changes to RabbitMQ': which entities publish their changes, and where.

SQS, RabbitMQ and NATS are built (workflows/event_spec.Sink); a sink that is not (Kafka,
SNS, ...) is a question with a button for each that is, unless the request names one of
those too (an answer to that question is read with the request).

Within a clause about events, each entity goes to the built sink named next after it
('orders to SQS and customers over NATS'), or in its part of the clause before it
('publish to RabbitMQ the order changes'); one the clause excludes ('except users',
'venues don't need events', 'hotels no events') does not publish. A clause that names
no entity asks for every entity but the excluded ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from understanding.names import singular
from understanding.result import Choice
from understanding.words import Request
from workflows.event_spec import SINK_NAMES, EventSpec, Sink
from workflows.spec import snake_case

BUILT = {"sqs": Sink.sqs, "rabbitmq": Sink.rabbitmq, "amqp": Sink.rabbitmq, "nats": Sink.nats}
BUILT |= {"jetstream": Sink.nats}
NOT_BUILT = {
    "kafka": "Kafka",
    "sns": "SNS",
    "eventbridge": "EventBridge",
    "kinesis": "Kinesis",
    "pubsub": "Pub/Sub",
    "webhook": "webhooks",
    "webhooks": "webhooks",
}
# Spellings made one word, keeping every character's place: 'Rabbit MQ', 'pub/sub'.
ONE_WORD = [
    (re.compile(r"\brabbit[ -]mq\b"), "rabbitmq "),
    (re.compile(r"\bpub[/ ]sub\b"), "pubsub "),
]
SINK_WORDS = "|".join(sorted([*BUILT, *NOT_BUILT], key=len, reverse=True))
EVENTS_ASKED = re.compile(
    r"\b(?:(?:events?|changes?|updates?|messages?)\s*(?:to|on|into|via|over|through|->|=>|→|:)?\s*)?"
    rf"(?<![\w-])(?:{SINK_WORDS})(?![\w-])"
    r"|\b(?:publish|emit|send|stream)\w*\b[^.;\n]*?\b(?:events?|changes?|updates?)\b"
    r"|\bno events\b|\bevents?\s+(?:off|disabled)\b"
)
WHICH_SINK = [SINK_NAMES[sink] for sink in Sink] + ["No events"]
# 'events: invoices -> sqs, clients -> nats' on a line of its own: not an entity.
EVENT_LINE = re.compile(r"(?m)^[\s*•-]*(?:events?|publish(?:es|ing)?)\s*:[^\n]*$")
EXCLUDING = {"except", "excluding", "exclude", "not", "don't", "dont", "no", "without", "skip"}
EXCLUDING |= {"stop", "remove", "drop", "disable", "unpublish"}
EXCLUDED_AFTER = {"don't", "dont", "doesn't", "doesnt", "no", "not", "excluded", "shouldn't"}
STOPPING = {"stop", "don't", "dont", "no", "remove", "drop", "disable", "off", "unpublish"}
KEPT = {"leave", "keep", "untouched", "alone"}
NOT_THIS_SINK = {"from", "off", "of", "not", "than", "replacing", "replace"}
LISTING = {"and", "or", "nor", "&", ","}
EVERYTHING = {"everything", "all", "every", "entities", "entirely", "everywhere"}
MOVING = {"move", "moving", "switch", "migrate", "swap", "change", "instead"}


def one_word(text: str) -> str:
    for pattern, word in ONE_WORD:
        text = pattern.sub(word, text)
    return text


def set_aside(request: Request) -> None:
    """Before the entity readers: sink names made one word, and lines that only say
    where events go kept from them (events_asked reads them from the text as written)."""
    request.lowered, request.folded = one_word(request.lowered), one_word(request.folded)
    for line in _event_lines(request.lowered):
        request.blank(line.start(), line.end())


def _event_lines(text: str) -> list[re.Match]:
    return [
        m
        for m in EVENT_LINE.finditer(text)
        if re.search(rf"(?<![\w-])(?:{SINK_WORDS})(?![\w-])", m.group())
    ]


def sink_named(text: str) -> Sink | None:
    """The first built sink the text names (not one it moves away from)."""
    tokens = _tokens(one_word(text.lower()))
    for i, token in enumerate(tokens):
        if token in BUILT and (i == 0 or tokens[i - 1] not in NOT_THIS_SINK):
            return BUILT[token]
    return None


@dataclass
class Asked:
    """What the clauses about events say: entities and the sink each was given ('' when
    none), those excluded, and whether they ask for every entity or none."""

    sinks: dict[str, Sink | str] = field(default_factory=dict)
    excluded: set[str] = field(default_factory=set)
    stopped: set[str] = field(default_factory=set)
    every: bool = False
    none: bool = False
    stop_all: bool = False
    moving: bool = False


def read_asks(text: str, names: list[str], loose: bool = False) -> Asked | None:
    """None when the text says nothing about events. `loose` (a change to a service)
    also reads 'publish customers' and 'stop publishing' as about events."""
    lowered = one_word(text)
    about = re.compile(EVENTS_ASKED.pattern + (r"|\bpublish|\bevents?\b" if loose else ""))
    clauses = [c.group() for c in re.finditer(r"[^.;\n]+", lowered) if about.search(c.group())]
    if not clauses:
        return None
    asked = Asked()
    for clause in clauses:
        _read_clause(asked, clause, names)
    return asked


def _read_clause(asked: Asked, clause: str, names: list[str]) -> None:
    tokens = _tokens(clause)
    mentions = _mentions(tokens, names)
    asked.moving = asked.moving or any(t in MOVING for t in tokens)
    if not mentions:
        said_none = re.search(r"\bno events\b|\bevents?\s+(?:off|disabled)\b", clause)
        stopping = any(t in STOPPING for t in tokens)
        asked.none = asked.none or bool(said_none)
        asked.stop_all = asked.stop_all or stopping or bool(said_none)
        asked.every = asked.every or not (said_none or stopping)
        return
    included = False
    for group in _lists(tokens, mentions):
        first, last = group[0][0], group[-1][0] + group[-1][2]
        before = set(tokens[max(0, first - 3) : first])
        after = set(tokens[last : last + 2])
        excluded = bool(before & EXCLUDING or after & EXCLUDED_AFTER)
        stopped = bool(before & STOPPING or after & EXCLUDED_AFTER)
        kept = bool((before | set(tokens[last : last + 3])) & KEPT)
        for start, name, length in group:
            if kept:
                continue
            if excluded:
                asked.excluded.add(name)
                if stopped:
                    asked.stopped.add(name)
                continue
            asked.sinks.setdefault(name, _sink_near(tokens, start, length))
            included = True
    if not included and _asks_to_publish(tokens):  # 'publish changes but not refunds'
        asked.every = True


def _asks_to_publish(tokens: list[str]) -> bool:
    """A built sink named, or a verb of publishing not said with a no."""
    for i, token in enumerate(tokens):
        if token in BUILT or re.match(r"(?:publish|emit|send|stream)", token):
            if not set(tokens[max(0, i - 2) : i]) & STOPPING:
                return True
    return False


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?:'t)?|,|&", text.lower())


def _mentions(tokens: list[str], names: list[str]) -> list[tuple[int, str, int]]:
    """(position, entity, words) of each entity the tokens name, the longest name first
    at each place ('order item' is an OrderItem, not an Order)."""
    words = [singular(t) for t in tokens]
    spelled = sorted(((snake_case(n).split("_"), n) for n in names), key=lambda p: -len(p[0]))
    found, i = [], 0
    while i < len(words):
        hit = next((p for p in spelled if words[i : i + len(p[0])] == p[0]), None)
        if hit:
            found.append((i, hit[1], len(hit[0])))
            i += len(hit[0])
        else:
            i += 1
    return found


def _lists(tokens: list[str], mentions: list[tuple[int, str, int]]) -> list[list]:
    """Mentions joined by 'and', 'or' or commas, as one list each."""
    groups: list[list] = [[mentions[0]]]
    for mention in mentions[1:]:
        end = groups[-1][-1][0] + groups[-1][-1][2]
        between = tokens[end : mention[0]]
        joined = all(t in LISTING or t in ("changes", "change", "events") for t in between)
        groups[-1].append(mention) if joined and between else groups.append([mention])
    return groups


def _sink_near(tokens: list[str], start: int, length: int) -> Sink | str:
    """The built sink named next after the entity, else last before it in its part of the
    clause (between commas), else ''."""
    part_start = max((i + 1 for i in range(start) if tokens[i] == ","), default=0)
    part_end = next((i for i in range(start, len(tokens)) if tokens[i] == ","), len(tokens))
    for i in range(start + length, len(tokens)):
        if tokens[i] in BUILT and tokens[i - 1] not in NOT_THIS_SINK:
            return BUILT[tokens[i]]
    for i in range(min(start, part_end) - 1, part_start - 1, -1):
        if tokens[i] in BUILT and (i == 0 or tokens[i - 1] not in NOT_THIS_SINK):
            return BUILT[tokens[i]]
    return ""


def events_asked(
    request: Request, names: list[str]
) -> tuple[list[EventSpec] | None, list[Choice], list[str]]:
    """Events for a new service: those asked for, each to its sink (else one the request
    names, else SQS), with a question when only an unbuilt sink is named and what was
    assumed; None when events are not asked for at all."""
    lowered = one_word(request.lowered)
    for match in EVENTS_ASKED.finditer(lowered):
        request.use(match.start(), match.end())
    for line in _event_lines(request.folded):
        request.use(line.start(), line.end())
        lowered += "\n" + line.group()
    asked = read_asks(lowered, names)
    if asked is None:
        return None, [], []
    whole = one_word(request.folded)  # as written: a reader may have taken 'pub/sub'
    anywhere = sink_named(whole)
    question = _not_built(whole) if anywhere is None else None
    if question or (asked.none and not asked.sinks):
        return None, [question] if question else [], []
    every = not asked.sinks and asked.every
    wanted = dict.fromkeys([n for n in names if n not in asked.excluded], "") if every else {}
    wanted |= asked.sinks
    events = [
        EventSpec(entity=name, sink=wanted[name] or anywhere or Sink.sqs)
        for name in names
        if name in wanted
    ]
    assumed = ["events: changes of every entity"] if every and not asked.excluded else []
    return events, [], assumed


def change_events(events: list[dict], entities: list[str], clause: str, text: str):
    """A change's clause about events, applied to `events` (the spec's, as dicts): None
    when it says nothing of them, else (whether they changed, a problem to say instead).
    'publish orders to NATS instead' moves an entity already published; 'stop publishing
    customers' stops one; a new one goes where the text says, else where the service
    already publishes, else SQS."""
    lowered = one_word(clause.lower())
    asked = read_asks(lowered, entities, loose=True)
    if asked is None:
        return None
    anywhere = sink_named(one_word(text.lower()))
    if anywhere is None and (question := _not_built(lowered)):
        return False, question.question.replace("Which shall I use?", "Say which.")
    before = [dict(e) for e in events]
    if asked.stop_all and not asked.sinks:
        events.clear()
    events[:] = [e for e in events if e["entity"] not in asked.stopped]
    have = {e["entity"]: e for e in events}
    current = {e["sink"] for e in events}
    clause_sink = sink_named(lowered)
    usual = anywhere or (Sink(current.pop()) if len(current) == 1 else Sink.sqs)
    wanted = dict(asked.sinks)
    if not wanted and asked.every and not asked.stop_all:
        pool = list(have) if asked.moving and have else entities
        wanted = dict.fromkeys([n for n in pool if n not in asked.excluded], "")
    for name, sink in wanted.items():
        sink = sink or clause_sink
        if name in have:
            if sink and have[name]["sink"] != sink.value:
                have[name]["sink"] = sink.value
        else:
            events.append({"entity": name, "sink": (sink or usual).value})
    return events != before, None


def _not_built(lowered: str) -> Choice | None:
    found = re.search(rf"(?<![\w-])({'|'.join(NOT_BUILT)})(?![\w-])", lowered)
    if not found:
        return None
    return Choice(
        question=f"{NOT_BUILT[found.group(1)]} isn't built yet: I publish changes to "
        "SQS, RabbitMQ or NATS. Which shall I use?",
        answers=WHICH_SINK,
    )


def events_diff(old, new) -> list[str]:
    """What a change does to where events go and what the service consumes, in lines of
    the change's diff."""
    lines = []
    was = {e.entity: SINK_NAMES[e.sink] for e in old.events}
    now = {e.entity: SINK_NAMES[e.sink] for e in new.events}
    for name, sink in sorted(now.items()):
        if name not in was:
            lines.append(f"+ {name} changes published to {sink}")
        elif was[name] != sink:
            lines.append(f"~ {name} changes published to {sink} (was {was[name]})")
    lines += [f"- {name} changes no longer published" for name in sorted(was.keys() - now)]
    said = {(c.publisher, c.entity, c.action, c.creates) for c in old.consumers}
    for c in new.consumers:
        if (c.publisher, c.entity, c.action, c.creates) not in said:
            lines.append(f"+ a {c.creates} per {c.entity} {c.action} in {c.publisher}")
    kept = {(c.publisher, c.entity, c.action, c.creates) for c in new.consumers}
    for c in old.consumers:
        if (c.publisher, c.entity, c.action, c.creates) not in kept:
            lines.append(f"- no {c.creates} per {c.entity} {c.action} in {c.publisher}")
    return lines
