"""Run a load test with Locust in a child process and read its figures back.

Locust patches the standard library with gevent when imported, which a Temporal worker
must not have, so Locust runs as `python -m locust --headless` beside it, with a hard
timeout, while this side heartbeats the run's progress. What comes back is Locust's own
CSV files, read into the bounded models a workflow history can carry. The headers may
carry a token: they travel in a file only the worker's user can read, removed after the
run, and never appear in an error message or a log line.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import httpx

from activities.optimize.load_plan import LoadPlan
from workflows.optimize_models import (
    AGGREGATED,
    MAX_ENDPOINTS,
    MAX_TIMELINE,
    EndpointStats,
    LoadPoint,
    LoadResult,
)

log = logging.getLogger(__name__)
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
MARGIN_S = 45  # Locust's start-up, spawning and shutdown, on top of the run itself
BEAT_EVERY_S = 3
WINDOW_S = 5  # the failure ratio that stops a run is over this many seconds...
MIN_REQUESTS = 50  # ...once at least this many requests were made in them
STDERR_LINES = 6


class LoadError(RuntimeError):
    """The load test could not run; the message says why, with no secret in it."""


def run_load(
    target: str,
    plan: LoadPlan,
    *,
    users: int,
    seconds: int,
    spawn_rate: float,
    headers: dict[str, str],
    max_error_ratio: float,
    heartbeat: Callable[[str], None],
    work_dir: Path,
) -> LoadResult:
    """Load `target` with the plan's calls for `seconds`; figures per endpoint and second."""
    if not plan.calls:
        raise LoadError("nothing to load: the plan has no calls")
    target = target.rstrip("/")
    secrets = [value for value in headers.values() if value]
    _answers(target, secrets)
    work_dir.mkdir(parents=True, exist_ok=True)
    settings, status_file, prefix = (
        work_dir / "load-settings.json",
        work_dir / "load-status.json",
        work_dir / "load",
    )
    for stale in [status_file, *work_dir.glob("load_*.csv")]:  # an earlier run's figures
        stale.unlink(missing_ok=True)
    _write_private(
        settings,
        {
            "plan": plan.model_dump(mode="json"),
            "headers": headers,
            "max_error_ratio": max_error_ratio,
            "min_requests": MIN_REQUESTS,
            "window_s": WINDOW_S,
            "status_file": str(status_file),
            "parent_pid": os.getpid(),  # Locust stops itself when the worker is gone
        },
    )
    command = [
        sys.executable,
        "-m",
        "locust",
        "--headless",
        "-f",
        str(LOCUSTFILE),
        "--host",
        target,
        "-u",
        str(users),
        "-r",
        str(spawn_rate),
        "-t",
        f"{seconds}s",
        "--csv",
        str(prefix),
        "--csv-full-history",
        "--only-summary",
        "--exit-code-on-error",
        "0",
        "--stop-timeout",
        "5",
    ]
    log.info(
        "load test of %s: %d users for %d s, %d calls", target, users, seconds, len(plan.calls)
    )
    started = time.monotonic()
    try:
        code = _wait(command, work_dir, settings, status_file, seconds, heartbeat)
    finally:
        settings.unlink(missing_ok=True)
    wall = time.monotonic() - started
    stats = Path(f"{prefix}_stats.csv")
    if code != 0 or not stats.exists() or stats.stat().st_size == 0:
        tail = _tail(work_dir / "locust.log", secrets)
        raise LoadError(f"Locust did not run (exit code {code}): {tail}")
    status = _read_status(status_file)
    return _result(target, users, prefix, status.get("stopped", ""), wall)


def _answers(target: str, secrets: list[str]) -> None:
    """Fail fast, and clearly, when nothing listens at the target (no headers are sent).
    Any HTTP answer will do; proxies are ignored, as Locust ignores them."""
    try:
        httpx.get(target + "/", timeout=5.0, trust_env=False)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        detail = _scrub(str(error) or type(error).__name__, secrets)
        raise LoadError(f"nothing answers at {target}: {detail}") from None


def _write_private(path: Path, content: dict) -> None:
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(content, file)


def _wait(
    command: list[str],
    work_dir: Path,
    settings: Path,
    status_file: Path,
    seconds: int,
    heartbeat: Callable[[str], None],
) -> int:
    """Run Locust to its end, heartbeating its progress; kill it past the hard timeout."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    environment["SHIPMATE_LOAD_SETTINGS"] = str(settings)
    deadline = time.monotonic() + seconds + MARGIN_S
    with open(work_dir / "locust.log", "wb") as output:
        process = subprocess.Popen(
            command,
            cwd=work_dir,  # no locust.conf or pyproject.toml of anyone else's is read
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            while True:
                try:
                    return process.wait(timeout=BEAT_EVERY_S)
                except subprocess.TimeoutExpired:
                    pass
                if time.monotonic() > deadline:
                    raise LoadError(f"Locust did not finish within {seconds + MARGIN_S} s")
                status = _read_status(status_file)
                if status:
                    at, rps = status.get("at_s", 0), status.get("rps", 0)
                    heartbeat(f"{at:.0f} s of {seconds}: {rps} req/s")
                else:
                    heartbeat(f"starting Locust for {seconds} s")
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def _read_status(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
        for part in secret.split():  # "Bearer abc": the token alone is the secret
            if len(part) >= 8:
                text = text.replace(part, "***")
    return text


def _tail(path: Path, secrets: list[str]) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no output"
    kept = [line.strip() for line in lines if line.strip()][-STDERR_LINES:]
    return _scrub(" | ".join(kept) or "no output", secrets)


def _number(text: str | None) -> float:
    try:
        return float(text or 0)
    except ValueError:  # "N/A" when no request fell in the window
        return 0.0


def _result(target: str, users: int, prefix: Path, stopped: str, wall: float) -> LoadResult:
    with open(f"{prefix}_stats.csv", encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    figures = [
        EndpointStats(
            name=row["Name"],
            requests=int(_number(row["Request Count"])),
            failures=int(_number(row["Failure Count"])),
            p50_ms=_number(row.get("50%")),
            p95_ms=_number(row.get("95%")),
            p99_ms=_number(row.get("99%")),
            rps=round(_number(row.get("Requests/s")), 2),
        )
        for row in rows
    ]
    total = next((f for f in figures if f.name == AGGREGATED), EndpointStats(name=AGGREGATED))
    endpoints = sorted((f for f in figures if f.name != AGGREGATED), key=lambda f: -f.p95_ms)
    endpoints = endpoints[:MAX_ENDPOINTS]
    if total.requests == 0:
        raise LoadError(f"Locust made no request to {target}" + (f": {stopped}" if stopped else ""))
    timeline, ran = _timeline(Path(f"{prefix}_stats_history.csv"), {e.name for e in endpoints})
    return LoadResult(
        target=target,
        seconds=round(ran or wall, 1),
        users=users,
        endpoints=endpoints,
        total=total,
        timeline=timeline,
        stopped_early=stopped,
    )


def _timeline(path: Path, kept: set[str]) -> tuple[list[LoadPoint], float]:
    """One point a second per endpoint and for all; and how long requests were made."""
    try:
        with open(path, encoding="utf-8", newline="") as file:
            rows = list(csv.DictReader(file))
    except OSError:
        return [], 0.0
    if not rows:
        return [], 0.0
    start = min(int(_number(row["Timestamp"])) for row in rows)
    latest: dict[str, dict[int, dict]] = defaultdict(dict)
    for row in rows:
        if row["Name"] == AGGREGATED or row["Name"] in kept:
            latest[row["Name"]][int(_number(row["Timestamp"]))] = row  # last row of a second
    series: dict[str, list[LoadPoint]] = {}
    ran = 0.0
    for name, by_second in latest.items():
        points, before_at, before = [], start, (0.0, 0.0)
        for at in sorted(by_second):
            row = by_second[at]
            count = (_number(row["Total Request Count"]), _number(row["Total Failure Count"]))
            span = max(at - before_at, 1)
            if name == AGGREGATED and count[0] > before[0]:
                ran = float(at - start)
            points.append(
                LoadPoint(
                    endpoint=name,
                    at_s=float(at - start),
                    users=int(_number(row["User Count"])),
                    rps=round((count[0] - before[0]) / span, 2),
                    failures_per_s=round((count[1] - before[1]) / span, 2),
                    p50_ms=_number(row.get("50%")),
                    p95_ms=_number(row.get("95%")),
                )
            )
            before_at, before = at, count
        series[name] = points
    return _capped(series), ran


def _thin(points: list[LoadPoint], budget: int) -> list[LoadPoint]:
    """`budget` points spread evenly over the run, its first and last kept."""
    if len(points) <= budget:
        return points
    if budget <= 1:
        return points[-budget:] if budget else []
    step = (len(points) - 1) / (budget - 1)
    return [points[round(i * step)] for i in range(budget)]


def _capped(series: dict[str, list[LoadPoint]]) -> list[LoadPoint]:
    """At most MAX_TIMELINE points: every aggregated one first, endpoints thinned evenly."""
    whole = _thin(series.pop(AGGREGATED, []), MAX_TIMELINE)
    room = MAX_TIMELINE - len(whole)
    each = room // len(series) if series else 0
    kept = [point for points in series.values() for point in _thin(points, each)]
    return whole + sorted(kept, key=lambda p: (p.endpoint, p.at_s))
