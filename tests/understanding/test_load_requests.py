"""Load-test requests as people write them (load_requests*.jsonl, each written by someone
who never read the reader; all were read while mending it, so
the measure is benchmarks/load_requests_measure.jsonl, which nobody has read): whether a
message asks for a run now, and which service, environment, length and users it names.
Every row is read exactly; a URL is never the service, and numbers describing the
slowness are never the run's length.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.load_requests import expected_of, known_services, reading, rows_of

HERE = Path(__file__).parent
TABLES = ("load_requests.jsonl", *(f"load_requests_{n}.jsonl" for n in (2, 3, 4)))
# Decided otherwise than the writer: a URL's host is never read, not even for an environment
# (the URL is never loaded: Shipmate asks which of its services is meant).
DECIDED = {"@shipmate load test https://staging-edge.acme.dev/catalog/items?page=2 for 10 minutes"}
ROWS = [
    row
    for row in rows_of(*(HERE / table for table in TABLES))
    if not any(row["text"].startswith(text) for text in DECIDED)
]
KNOWN = known_services(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[row["text"][:60] for row in ROWS])
def test_a_load_request_is_read_as_its_writer_meant(row):
    assert reading(row["text"], KNOWN) == expected_of(row)
