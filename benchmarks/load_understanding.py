"""How well load-test requests are read, on a table nobody working on the reader has read:
`python -m benchmarks.load_understanding`. Prints counts only, never the rows (reading
them would make the table one more that the reader was mended on)."""

from __future__ import annotations

from pathlib import Path

from testkit.load_requests import rows_of, scored

MEASURE = Path(__file__).with_name("load_requests_measure.jsonl")


def main() -> None:
    rows = rows_of(MEASURE)
    counts = scored(rows)
    share = 100 * counts["exact"] / len(rows)
    print(f"Load-test requests read exactly: {counts['exact']}/{len(rows)} ({share:.1f} %)")
    print(
        f"  asks missed: {counts['missed ask']}, runs nobody asked for: "
        f"{counts['run not asked']}, asks read with other figures: {counts['fields differ']}"
    )


if __name__ == "__main__":
    main()
