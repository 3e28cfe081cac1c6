"""A backlog over Temporal's 2 MB payload limit is cut into parts each under the outbox's
`carry_bytes`, in order, nothing left out: each part is one activity's payload."""

from __future__ import annotations

from workflows.outbox_messages import Backlog, OutgoingMessage
from workflows.outbox_workflow import _parts, _size


def test_a_three_megabyte_backlog_goes_in_parts_each_under_the_limit():
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "é" * 900}}]
    queue = [
        OutgoingMessage(key=f"k{n}", channel="C1", text=f"card {n}", blocks=blocks)
        for n in range(1500)
    ]
    edits = {f"card/{n}": queue[n].model_copy(update={"key": f"card/{n}"}) for n in range(40)}
    backlog = Backlog(outbox="slack-outbox/q/C1", queue=queue, edits=edits)
    assert _size(backlog) > 3_000_000  # bytes: é is two of them

    parts = _parts(backlog, 200_000)
    assert all(_size(part) <= 200_000 for part in parts)
    assert [m.key for part in parts for m in part.queue] == [m.key for m in queue]
    assert {k: v for part in parts for k, v in part.edits.items()} == edits
    assert len(parts) >= 16


def test_a_message_larger_than_a_part_is_a_part_by_itself():
    huge = OutgoingMessage(key="big", channel="C1", text="x" * 5_000)
    small = OutgoingMessage(key="small", channel="C1", text="y")
    parts = _parts(Backlog(outbox="o", queue=[small, huge, small]), 1_000)
    assert [[m.key for m in part.queue] for part in parts] == [["small"], ["big"], ["small"]]
