"""How well requests about events are read, on tables nobody working on the reader has
read: `python -m benchmarks.event_understanding`. Prints counts only, never the rows
(reading them would make the tables more that the reader was mended on)."""

from __future__ import annotations

from pathlib import Path

from testkit.event_requests import change_read, new_service_read, rows_of

HERE = Path(__file__).parent


def main() -> None:
    for label, table, read in (
        ("new services", "event_requests_measure.jsonl", new_service_read),
        ("changes", "event_changes_measure.jsonl", change_read),
    ):
        rows = rows_of(HERE / table)
        exact = sum(read(row)[0] for row in rows)
        print(
            f"Events, {label}, read exactly: {exact}/{len(rows)} ({100 * exact / len(rows):.1f} %)"
        )


if __name__ == "__main__":
    main()
