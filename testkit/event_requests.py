"""Requests about events, and whether the reader reads them as their writer meant: for a
new service, the entities that publish and where (or the question an unbuilt broker
asks); for a change to shop-api (Order, Customer), where they publish after it."""

from __future__ import annotations

import json
from pathlib import Path

from understanding import parse_change, parse_request
from workflows.event_spec import EventSpec
from workflows.spec import EntitySpec, FieldSpec, ServiceSpec

UNBUILT = "isn't built yet"
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


def rows_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def new_service_read(row: dict) -> tuple[bool, str]:
    """Whether a new service's events were read as meant, and what was read instead."""
    read = parse_request(row["text"])
    asks = any(UNBUILT in choice.question for choice in read.choices)
    if asks or row["asks"]:
        return asks == row["asks"], f"asks: {asks}"
    if read.spec is None:
        return False, f"no spec: {read.questions[:1]}"
    got = {event.entity: event.sink.value for event in read.spec.events}
    return got == (row["events"] or {}), f"events: {got}"


def change_read(row: dict) -> tuple[bool, str]:
    """Whether a change to shop-api left its events as meant."""
    before = SHOP.model_copy(
        update={"events": [EventSpec(entity=e, sink=s) for e, s in row["before"].items()]}
    )
    read = parse_change(before, row["text"])
    asks = any(UNBUILT in question for question in read.questions)
    if row["after"] is None or asks:
        return asks == (row["after"] is None), f"asks: {asks}"
    if read.spec is None:
        return row["after"] == row["before"], f"no change: {read.questions[:1]}"
    got = {event.entity: event.sink.value for event in read.spec.events}
    return got == row["after"], f"events: {got}"
