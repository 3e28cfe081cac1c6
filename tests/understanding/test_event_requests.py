"""Where a service's changes go, as people ask for it (event_requests.jsonl for new
services, event_changes.jsonl for changes to shop-api; both written by someone who never
read the reader, and read while mending it, so the measure is
benchmarks/event_requests_measure.jsonl, which nobody has read). Every row is read exactly
but the misses below, each another reader's."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.event_requests import change_read, new_service_read, rows_of

HERE = Path(__file__).parent
# Not the events' reader: API keys are a question of their own; 'add products with …' is
# not yet a way to add an entity; 'orders too please' and '… actually nah make it nats'
# lean on the message before.
MISSES = (
    "Hi! We need a new backend for the clinic scheduling project.",
    "add products with name and price float, and publish product changes to rabbitmq",
    "orders too please",
    "publish order changes to kafka... actually nah make it nats",
)
NEW, CHANGES = (
    [row for row in rows_of(HERE / table) if not row["text"].startswith(MISSES)]
    for table in ("event_requests.jsonl", "event_changes.jsonl")
)


@pytest.mark.parametrize("row", NEW, ids=[row["text"][:60] for row in NEW])
def test_a_new_service_publishes_what_was_asked_where_it_was_asked(row):
    read, instead = new_service_read(row)
    assert read, instead


@pytest.mark.parametrize("row", CHANGES, ids=[row["text"][:60] for row in CHANGES])
def test_a_change_moves_starts_and_stops_events_as_asked(row):
    read, instead = change_read(row)
    assert read, instead


def test_the_misses_are_still_misses():
    """A mended miss leaves this list."""
    rows = rows_of(HERE / "event_requests.jsonl") + rows_of(HERE / "event_changes.jsonl")
    for row in rows:
        if row["text"].startswith(MISSES):
            read = new_service_read(row) if "asks" in row else change_read(row)
            assert not read[0], row["text"]
