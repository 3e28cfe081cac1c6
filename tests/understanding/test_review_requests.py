"""Review requests as people write them, from a set written by someone who never read
the reader (review_requests.jsonl: 120 messages, 80 asking for reviews in many ways and
40 that only sound close). Each row is a test: is it a review, and of what (a service
and version, a repository URL, pasted code, an attached file, or nothing named yet),
with what in mind.

Where the reader and the writer disagree on purpose, the row is listed in DECIDED with
the reason; every other row must be read as written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from understanding.review_request import is_review, read_review

ROWS = [
    json.loads(line)
    for line in (Path(__file__).parent / "review_requests.jsonl").read_text().splitlines()
]
DECIDED = {
    # How a running service behaves under load is the optimizer's (a load test), not a
    # reading of its code: Shipmate answers that it does not load-test yet.
    "<@U0SHIPMATE> is orders-api going to fall over under load?": "optimizer",
    "<@U0SHIPMATE> where are the bottlenecks in search-api?": "optimizer",
    # Not a -api/-service name: the bot finds it among the services that exist.
    "<@U0SHIPMATE> security review of payments-gateway please 🙏": "a service found by the bot",
    # An auth handler asked about generally: read with security first, which loses nothing.
    "<@U0SHIPMATE> our auth handler, see attached. anything wrong with it?": "focus",
}


def reading(text: str, attached: bool) -> dict:
    if not is_review(text, attached):
        return {"review": False, "kind": None, "service": None, "version": None, "url": None}
    ask = read_review(text)
    kind = "unclear"
    if attached:
        kind = "file"
    elif ask.snippet:
        kind = "snippet"
    elif ask.url:
        kind = "git"
    elif ask.service:
        kind = "service"
    return {
        "review": True,
        "kind": kind,
        "service": ask.service if kind == "service" else None,
        "version": ask.version if kind == "service" else None,
        "url": ask.url if kind == "git" else None,
        "focus": ask.focus.value,
    }


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r["text"] not in DECIDED], ids=lambda r: r["text"][:60]
)
def test_a_request_is_read_as_its_writer_meant(row):
    wanted = {key: row[key] for key in ("review", "kind", "service", "version", "url")}
    if row["review"]:
        wanted["focus"] = row["focus"]
    assert reading(row["text"], row["attached"]) == wanted


def test_the_decided_rows_are_still_in_the_set():
    assert set(DECIDED) <= {row["text"] for row in ROWS}


def test_a_plan_pasted_in_a_code_block_is_built_not_reviewed():
    plan = (
        "<@U0SHIPMATE> ```service kiln-api\ndatabase postgresql · api rest\nFiring: peak float```"
    )
    assert not is_review(plan)
    assert is_review("<@U0SHIPMATE> ```python\ndef f(x):\n    return eval(x)\n```")
