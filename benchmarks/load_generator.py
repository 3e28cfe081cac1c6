"""How hard the load engine can push on this machine: `python -m benchmarks.load_generator`.

An optimization's figures mean something only if the service, not Locust, is what
saturates. This serves a trivial endpoint with haproxy (one thread answering `ok`
itself, so it costs next to nothing) and runs the real `run_load` against it with a one-call
plan for 15 s, then prints the requests per second reached and the latencies seen.
Target: at least 1,500 req/s on a 2-core machine. Prints figures; asserts nothing.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from activities.optimize.load_plan import LoadPlan, PlannedCall
from activities.optimize.load_run import run_load
from workflows.optimize_models import AGGREGATED

HAPROXY = Path("/usr/sbin/haproxy")  # setup-local.sh installs it (the TLS tests use it)
PORT = 28180
SECONDS = 15
USERS = 32
CONFIG = """
global
    nbthread 1
defaults
    mode http
    timeout client 10s
    timeout connect 5s
    timeout server 10s
frontend trivial
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string ok
"""


def start_server(home: Path) -> subprocess.Popen:
    """haproxy in the foreground with its own config: one thread answering `ok`."""
    config = home / "haproxy.cfg"
    config.write_text(CONFIG.format(port=PORT))
    command = [str(HAPROXY), "-db", "-f", str(config)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server.poll() is not None:
            error = server.stderr.read().decode() if server.stderr else ""
            raise SystemExit(f"haproxy did not start: {error.strip()[-500:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/", timeout=1).text == "ok":
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    server.wait(timeout=10)
    raise SystemExit(f"haproxy did not answer on 127.0.0.1:{PORT} within 10 s")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def main() -> None:
    if not HAPROXY.exists():
        print(f"{HAPROXY} is missing: run deploy/setup-local.sh (it installs haproxy)")
        sys.exit(2)
    call = PlannedCall(name="GET /", kind="get", method="GET", path="/", weight=1, collection="/")
    with tempfile.TemporaryDirectory(prefix="load-generator-") as folder:
        home = Path(folder)
        server = start_server(home)
        try:
            result = run_load(
                f"http://127.0.0.1:{PORT}",
                LoadPlan(calls=[call]),
                users=USERS,
                seconds=SECONDS,
                spawn_rate=USERS,
                headers={},
                max_error_ratio=0.5,
                heartbeat=lambda beat: print(f"  {beat}", flush=True),
                work_dir=home / "run",
            )
        finally:
            stop(server)
    total = result.total
    seconds = [p.rps for p in result.timeline if p.endpoint == AGGREGATED]
    steady = seconds[2:-1] or seconds  # without the ramp-up and the last, partial second
    print(f"Load engine against a trivial `ok` ({USERS} users, {result.seconds:.0f} s):")
    print(f"  requests: {total.requests}, failures: {total.failures}")
    print(f"  req/s over the run: {total.rps:.0f} (target: 1500 or more)")
    if steady:
        print(
            f"  req/s per second, steady: median {statistics.median(steady):.0f}, "
            f"min {min(steady):.0f}, max {max(steady):.0f}"
        )
    print(
        f"  latency: p50 {total.p50_ms:.0f} ms, p95 {total.p95_ms:.0f} ms, "
        f"p99 {total.p99_ms:.0f} ms"
    )
    if result.stopped_early:
        print(f"  stopped early: {result.stopped_early}")


if __name__ == "__main__":
    main()
