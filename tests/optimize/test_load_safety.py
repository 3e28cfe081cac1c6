"""A load goes to the target alone and never outlives the worker that started it.

The service's own OpenAPI document cannot point the load (and its bearer token) at
another host, and a worker killed mid-run takes its Locust with it: the run is not
retried (the workflow runs it once), so nothing may keep loading the service unseen.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from activities.optimize.load_plan import plan_calls
from tests.optimize.test_load import SECRET, service  # noqa: F401 - the module's test app

OPENAPI = {
    "openapi": "3.1.0",
    "paths": {
        "/todos": {"get": {"responses": {}}},
        "http://10.0.0.5/things": {"get": {"responses": {}}},
        "//elsewhere.example/things": {"get": {"responses": {}}},
    },
}
RUN = """
import sys
from pathlib import Path
from activities.optimize.load_plan import LoadPlan, PlannedCall
from activities.optimize.load_run import run_load
call = PlannedCall(name="GET /todos", kind="list", method="GET", path="/todos", weight=1,
                   collection="/todos")
run_load(sys.argv[1], LoadPlan(calls=[call]), users=2, seconds=60, spawn_rate=2,
         headers={"Authorization": sys.argv[3]}, max_error_ratio=0.5,
         heartbeat=print, work_dir=Path(sys.argv[2]))
"""


def test_a_document_naming_another_host_plans_no_call_to_it():
    planned = plan_calls(OPENAPI)
    assert {call.path for call in planned.calls} == {"/todos"}
    assert json.dumps(planned.model_dump()).count("elsewhere") == 0


def test_a_worker_killed_mid_run_takes_its_locust_and_token_file_with_it(service, tmp_path):  # noqa: F811
    work = tmp_path / "run"
    worker = subprocess.Popen(
        [sys.executable, "-c", RUN, service, str(work), SECRET],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        locust = _locust_of(worker.pid)
        _until(lambda: _requests(work) > 100, "the run to load the service")
        assert not (work / "load-settings.json").exists()  # read once, then removed
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        _until(lambda: not locust.is_running() or locust.status() == "zombie", "Locust to stop")
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)


def _requests(work: Path) -> int:
    try:
        return json.loads((work / "load-status.json").read_text()).get("total", 0)
    except (FileNotFoundError, ValueError):
        return 0


def _locust_of(pid: int) -> psutil.Process:
    def found():
        children = psutil.Process(pid).children()
        return children[0] if children else None

    return _until(found, "Locust to start")


def _until(check, what: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds:.0f} s for {what}")
