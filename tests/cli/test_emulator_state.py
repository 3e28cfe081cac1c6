"""`shipmate emulator --state FILE` keeps the workspace through a crash; without it,
nothing is written; `shipmate dev` hands its emulator a file in its state dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx

from cli import devstack, main
from testkit.waiting import eventually

SHIPMATE = [sys.executable, "-m", "cli.main"]


def emulator(port: int, *more: str, cwd=None) -> subprocess.Popen:
    return subprocess.Popen(
        [*SHIPMATE, "emulator", "--port", str(port), *more],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )


async def answering(port: int) -> bool:
    try:
        async with httpx.AsyncClient() as web:
            return (await web.get(f"http://127.0.0.1:{port}/_emulator/state")).is_success
    except httpx.TransportError:
        return False


async def say(port: int, text: str) -> None:
    body = {"user": "U0ALICE", "channel": "C0GENERAL", "text": text}
    async with httpx.AsyncClient() as web:
        response = await web.post(f"http://127.0.0.1:{port}/_emulator/messages", json=body)
    assert response.json()["ok"]


async def said(port: int) -> list[dict]:
    async with httpx.AsyncClient() as web:
        url = f"http://127.0.0.1:{port}/_emulator/channels/C0GENERAL/messages"
        return (await web.get(url)).json()["messages"]


async def test_the_emulator_command_keeps_its_workspace_through_a_kill(tmp_path):
    state, port = tmp_path / "workspace.jsonl", devstack.free_port()
    first = emulator(port, "--state", str(state))
    try:
        await eventually(lambda: answering(port), what="the emulator to answer")
        await say(port, "before the crash")
    finally:
        first.send_signal(signal.SIGKILL)  # no shutdown: only what was written counts
        first.wait(timeout=10)
    second = emulator(port, "--state", str(state))
    try:
        await eventually(lambda: answering(port), what="the emulator to answer again")
        (message,) = await said(port)
        assert message["text"] == "before the crash" and message["before_restart"]
    finally:
        second.terminate()
        second.wait(timeout=10)


async def test_without_a_state_file_the_emulator_writes_nothing(tmp_path):
    port = devstack.free_port()
    alone = emulator(port, cwd=tmp_path)
    try:
        await eventually(lambda: answering(port), what="the emulator to answer")
        await say(port, "in memory only")
    finally:
        alone.terminate()
        alone.wait(timeout=10)
    assert list(tmp_path.iterdir()) == []


def test_the_dev_stack_keeps_its_slack_in_its_state_dir_unless_told_fresh(tmp_path):
    kept = devstack.slack_state_file(tmp_path)
    part = devstack.emulator_part(3999, kept)
    assert part.argv[-2:] == ["--state", str(tmp_path / "slack" / "workspace.jsonl")]
    kept.parent.mkdir()
    kept.write_text('{"op":"reset"}\n')
    assert devstack.slack_state_file(tmp_path) == kept and kept.exists()
    assert main._parser().parse_args(["dev", "--fresh-slack"]).fresh_slack
    assert devstack.slack_state_file(tmp_path, fresh=True) == kept and not kept.exists()
