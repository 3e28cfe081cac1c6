"""The whole local stack stopped (Ctrl-C) and started again on the same state dir, as a
new user would: the thread from before is on the page, a change typed in it becomes v2
and goes live, and the row written before is still there. Real parts throughout."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import httpx
import pytest

from cli import devstack
from testkit.chat import Chat, letters
from testkit.dev_stack import dev_environment
from testkit.installations import remove_deployed

SHIPMATE = [sys.executable, "-m", "cli.main"]


def restart_environment(tmp_path, settings, installation) -> dict[str, str]:
    env, ports = dev_environment(tmp_path, "shipmate-dev-restart", "router")
    first = devstack.free_port()
    env.update(
        {
            "SHIPMATE_ROUTER_ADMIN_PORT": str(ports["router"]),
            "SHIPMATE_LOCAL_PORTS": f"{first}-{first + 19}",
            # the session's database servers, and an installation of its own
            **settings.as_environment("postgres_url", "mysql_url", "wheelhouse"),
            "SHIPMATE_INSTALLATION": installation,
        }
    )
    return env


def start_dev(env: dict[str, str]) -> subprocess.Popen:
    dev = subprocess.Popen(
        [*SHIPMATE, "dev"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    lines, deadline = [], time.monotonic() + 120
    for line in dev.stdout:
        lines.append(line.rstrip())
        if line.startswith("Ready.") or time.monotonic() > deadline:
            break
    assert any(line.startswith("Ready.") for line in lines), "\n".join(lines)
    return dev


def stop_dev(dev: subprocess.Popen) -> None:
    dev.send_signal(signal.SIGINT)
    assert dev.wait(timeout=60) == 0


@pytest.fixture
def own_installation(installation, database_servers):
    """An installation of this dev stack's own: its router (one per installation, holding
    the routes of one state dir) must not take over the session's, which other tests use
    at the same time. What it deploys goes afterwards."""
    own = f"{installation}d"
    yield own
    remove_deployed(own)
    database_servers.drop_everything_of(own)


async def test_a_restarted_dev_stack_keeps_the_thread_and_its_change_goes_live(
    tmp_path, settings, own_installation, docker_ready
):
    env = restart_environment(tmp_path, settings, own_installation)
    chat = Chat(SimpleNamespace(base_url=f"http://127.0.0.1:{env['SHIPMATE_EMULATOR_PORT']}"))
    name = f"memo{letters()}"
    dev = start_dev(env)
    try:
        ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name} api: {name}s have title")
        card = await chat.card(ts, "v1: waiting for approval", timeout=600)
        await chat.click("U0BOB", card["ts"], "approve")
        live = await chat.wait_for(ts, lambda r: "is live in *staging*" in r["text"], timeout=300)
        url = re.search(r"http://[\w.:-]+", live["text"]).group(0)
        async with httpx.AsyncClient(timeout=10) as web:
            created = await web.post(f"{url}/{name}s", json={"title": "before the restart"})
            assert created.status_code == 201, created.text
    finally:
        stop_dev(dev)

    dev = start_dev(env)
    try:
        (request,) = [m for m in await chat.messages() if m["ts"] == ts]
        assert request["before_restart"] and any(r["ts"] == card["ts"] for r in request["replies"])
        await chat.say("U0ALICE", f"also add a note field to {name}s", thread_ts=ts)
        second = await chat.card(ts, "v2: waiting for approval", timeout=600)
        await chat.click("U0BOB", second["ts"], "approve")
        live = await chat.wait_for(ts, lambda r: "v2 is live in *staging*" in r["text"], 300)
        url = re.search(r"http://[\w.:-]+", live["text"]).group(0)
        async with httpx.AsyncClient(timeout=10) as web:
            rows = (await web.get(f"{url}/{name}s")).json()
        rows = rows.get("items", rows) if isinstance(rows, dict) else rows
        assert [row["title"] for row in rows] == ["before the restart"], rows
        assert "note" in rows[0]
    finally:
        stop_dev(dev)
