"""How the bot reads a load-test request, as a table row: shared by the test of the tables
people wrote (tests/understanding/test_load_requests.py) and the benchmark that scores the
one nobody has read (benchmarks/load_understanding.py)."""

from __future__ import annotations

import json
from pathlib import Path

from bot import intents
from bot.optimizations import _named, wants_load
from understanding.load_request import read_load

FIELDS = ("service", "environment", "seconds", "users")
SAME = {"prod": "production"}  # one table says production; Shipmate's name for it is prod


def rows_of(*paths: Path) -> list[dict]:
    return [
        json.loads(line) for path in paths for line in path.read_text().splitlines() if line.strip()
    ]


def known_services(rows: list[dict]) -> list[str]:
    """The services the writers had in mind are the ones Shipmate runs."""
    return sorted({row["service"] for row in rows if row["service"]} | {"orders-api"})


def reading(text: str, known: list[str]) -> dict:
    if not wants_load(intents.read(text).intent, text):
        return {"load_test": False}
    ask = read_load(text)
    return {
        "load_test": True,
        "service": _named(ask.words, known) or ask.service,
        "environment": SAME.get(ask.environment, ask.environment),
        "seconds": ask.seconds,
        "users": ask.users,
    }


def expected_of(row: dict) -> dict:
    expected = {"load_test": row["load_test"]}
    if row["load_test"]:
        expected |= {k: row[k] for k in FIELDS}
        expected["environment"] = SAME.get(expected["environment"], expected["environment"])
    return expected


def scored(rows: list[dict]) -> dict[str, int]:
    """Exact, an ask missed, a run nobody asked for, or an ask read with other figures."""
    known = known_services(rows)
    counts = {"exact": 0, "missed ask": 0, "run not asked": 0, "fields differ": 0}
    for row in rows:
        expected, got = expected_of(row), reading(row["text"], known)
        if got == expected:
            counts["exact"] += 1
        elif expected["load_test"] and not got["load_test"]:
            counts["missed ask"] += 1
        elif got["load_test"] and not expected["load_test"]:
            counts["run not asked"] += 1
        else:
            counts["fields differ"] += 1
    return counts
