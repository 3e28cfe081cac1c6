"""`shipmate doctor` against a Temporal of its own that lacks Shipmate's search attributes:
it names each one missing and how to add it, and `--fix` adds them.

A Temporal without them takes no delivery at all (every first workflow task fails to
upsert them), so this is the first thing to check on a new cluster. The server here is
a dev server started without them, on another loopback address than `shipmate dev`'s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from cli.devstack import free_port, tool
from shipmate.ports import port_open
from workflows import search

HOST = "127.0.0.2"  # loopback, but not the address `shipmate dev` registers them on


@pytest.fixture()
def bare_temporal(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [
            tool("temporal") or "temporal",
            *("server", "start-dev", "--headless", "--log-level", "warn"),
            *("--ip", HOST, "--port", str(port), "--db-filename", str(tmp_path / "t.db")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not port_open(port, HOST):
        assert server.poll() is None and time.monotonic() < deadline, "temporal did not start"
        time.sleep(0.2)
    yield f"{HOST}:{port}"
    server.terminate()
    server.wait(timeout=30)


def doctor(address: str, *args: str) -> subprocess.CompletedProcess:
    """The command line as an operator runs it against that Temporal."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "doctor", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "SHIPMATE_TEMPORAL_ADDRESS": address},
        timeout=120,
    )


def search_line(run: subprocess.CompletedProcess) -> list[str]:
    lines = run.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if " search attrs " in line)
    return lines[at : at + 2]


def test_missing_search_attributes_are_named_and_added_by_fix(bare_temporal):
    before = doctor(bare_temporal)
    assert before.returncode == 1, before.stdout
    missing, fix = search_line(before)
    assert missing.split()[0] == "missing"
    for key in search.ALL:
        assert key.name in missing
    assert "ShipmateEnvironment (KeywordList)" in missing
    assert "fix: shipmate doctor --fix adds them" in fix
    assert "temporal operator search-attribute create --name ShipmateState --type Keyword" in fix

    fixed = doctor(bare_temporal, "--fix")
    assert f"adding search attributes: {', '.join(k.name for k in search.ALL)}" in fixed.stdout
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert search_line(fixed)[0].split()[:3] == ["ok", "search", "attrs"]

    again = doctor(bare_temporal, "--fix")  # nothing left to add
    assert "adding search attributes" not in again.stdout
    assert "Traceback" not in again.stdout + again.stderr
