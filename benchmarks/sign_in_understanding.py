"""How well the way people sign in is read, on a table nobody working on the reader has
read: `python -m benchmarks.sign_in_understanding`. Prints counts only, never the rows
(reading them would make the table one more that the reader was mended on)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from testkit.event_requests import rows_of
from testkit.sign_in_requests import sign_in_read, wanted

TABLE = Path(__file__).parent / "sign_in_requests_measure.jsonl"


def main() -> None:
    rows = rows_of(TABLE)
    misses = Counter()
    for row in rows:
        got = sign_in_read(row["text"])
        if got != wanted(row):
            misses[f"{wanted(row)} read as {got}"] += 1
    exact = len(rows) - sum(misses.values())
    share = 100 * exact / len(rows)
    print(f"Sign-in, new services, read exactly: {exact}/{len(rows)} ({share:.1f} %)")
    for miss, count in sorted(misses.items()):
        print(f"  {miss}: {count}")


if __name__ == "__main__":
    main()
