"""`shipmate emulator` runs the local Slack alone: on the port asked, with the workspace
of a seed file, until SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx

from cli import devstack
from slack_emulator.workspace import DEFAULT_SEED
from testkit.waiting import eventually_sync


def test_the_emulator_command_serves_the_seeded_workspace_on_its_port(tmp_path):
    seed = json.loads(json.dumps(DEFAULT_SEED))
    seed["team"] = {**seed["team"], "name": "Acme Platform"}
    seed["channels"].append({"id": "C0INCIDENTS", "name": "incidents", "members": ["U0ALICE"]})
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    port = devstack.free_port()
    emulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "emulator",
            "--port",
            str(port),
            "--seed",
            str(tmp_path / "seed.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:

        def state():
            try:
                return httpx.get(f"http://127.0.0.1:{port}/_emulator/state").json()
            except httpx.HTTPError:
                return None

        found = eventually_sync(state, interval=0.2, what="the emulator to answer")
        assert found["team"]["name"] == "Acme Platform"
        assert "incidents" in {c["name"] for c in found["channels"]}
    finally:
        emulator.send_signal(signal.SIGTERM)
        output = emulator.communicate(timeout=30)[0].decode()
    assert emulator.returncode == 0, output
    assert "Traceback" not in output
