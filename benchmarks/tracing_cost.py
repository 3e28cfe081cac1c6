"""What tracing costs a generated service: `python -m benchmarks.tracing_cost`.

The 5-entity library service of benchmarks.run under uvicorn on SQLite, twice: with
tracing off (OTEL_SDK_DISABLED=true) and on as it ships (spans made for every request
and statement, no collector set, so nothing leaves the process). Creates and reads of
one entity, one client at a time, so each figure is the service's own time. Prints p50
and p95 of each and what tracing adds. Asserts nothing.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from activities.scaffold.generator import write_service
from testkit.served import serving
from understanding import parse_request

LIBRARY = (
    "library api: authors have name; books have title, isbn (unique) and author; "
    "members have email (unique) and name; loans have book, member and due date; "
    "branches have city and opened_on date"
)
CALLS = 1000


def one_round(web: httpx.Client, n: int, taken: dict[str, list[float]]) -> None:
    started = time.perf_counter()
    made = web.post("/members", json={"email": f"m{n}@example.com", "name": "M"})
    taken["create"].append(time.perf_counter() - started)
    started = time.perf_counter()
    web.get(f"/members/{made.json()['id']}").raise_for_status()
    taken["read"].append(time.perf_counter() - started)


def environment(state: Path, tracing: bool) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{state / ('on.db' if tracing else 'off.db')}"}
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    env.pop("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", None)
    env["OTEL_SDK_DISABLED"] = "false" if tracing else "true"
    return env


def figures(ms: list[float]) -> tuple[float, float]:
    return statistics.median(ms), statistics.quantiles(ms, n=20)[18]


def main() -> None:
    print(
        f"tracing cost: a 5-entity service on SQLite, {CALLS} creates and reads, one at a "
        "time, alternating between the service with tracing off and on"
    )
    with tempfile.TemporaryDirectory(prefix="tracing-cost-") as tmp:
        state = Path(tmp)
        project = state / "service"
        write_service(parse_request(LIBRARY).spec, project)
        taken = {on: {"create": [], "read": []} for on in (False, True)}
        with contextlib.ExitStack() as running:
            bases = {
                on: running.enter_context(serving(project, environment(state, on), quiet=True))
                for on in taken
            }
            webs = {
                on: running.enter_context(httpx.Client(base_url=base)) for on, base in bases.items()
            }
            for n in range(-50, CALLS):  # the first 50 warm up: imports, first statements
                for on, web in webs.items():
                    one_round(web, n + 50, taken[on] if n >= 0 else {"create": [], "read": []})
    for kind in ("create", "read"):
        (p50_off, p95_off), (p50_on, p95_on) = (
            figures(taken[False][kind]),
            figures(taken[True][kind]),
        )
        print(
            f"  {kind:<6} p50 {p50_off * 1000:5.2f} -> {p50_on * 1000:5.2f} ms "
            f"({(p50_on / p50_off - 1) * 100:+.0f} %), p95 {p95_off * 1000:5.2f} -> "
            f"{p95_on * 1000:5.2f} ms ({(p95_on / p95_off - 1) * 100:+.0f} %)"
        )


if __name__ == "__main__":
    main()
