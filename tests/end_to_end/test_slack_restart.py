"""A local Slack that remembers: the emulator stopped and started again on the same file
(as `shipmate dev` does on its state dir) keeps the thread, and its card and buttons
work after the restart; a change typed in the old thread becomes v2 and goes live.

The real bot (it reconnects by itself), outbox and delivery; stages are scripted.
"""

from __future__ import annotations

import dataclasses

import pytest

from slack_emulator.server import EmulatorConfig, EmulatorServer
from testkit.chat import Chat, letters
from testkit.waiting import eventually
from tests.workflows.test_deleted_messages import said_once


@pytest.fixture()
async def emulator(tmp_path):
    """conftest's emulator, keeping its workspace in a file as under `shipmate dev`."""
    state = tmp_path / "slack" / "workspace.jsonl"
    server = await EmulatorServer(EmulatorConfig(port=0, state=state)).start()
    yield server
    await server.stop()


async def restarted(emulator: EmulatorServer) -> EmulatorServer:
    """Stopped, then started on the same port and file, as a restarted `shipmate dev` is."""
    await emulator.stop()
    return await EmulatorServer(dataclasses.replace(emulator.config)).start()


def live_in_staging(version: int):
    return lambda r: f"v{version} is live in *staging*" in r["text"]


async def test_after_a_restart_the_thread_its_card_and_buttons_work(chat: Chat, bot, emulator):
    name = f"ledger{letters()}"
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> {name} api: entries have amount (decimal)")
    card = await chat.card(ts, "v1: waiting for approval")

    again = await restarted(emulator)
    try:
        await eventually(lambda: again.events.sockets, timeout=60, what="the bot to reconnect")
        (request,) = [m for m in await chat.messages() if m["ts"] == ts]
        assert request["before_restart"] and len(request["replies"]) >= 2

        await chat.click("U0BOB", card["ts"], "approve")  # the card from before the restart
        await chat.wait_for(ts, live_in_staging(1))
        await chat.card(ts, "v1: delivered")  # and it is still edited in place

        await chat.say("U0ALICE", "also add a memo field to entries", thread_ts=ts)
        second = await chat.card(ts, "v2: waiting for approval")
        await chat.click("U0BOB", second["ts"], "approve")
        await chat.wait_for(ts, live_in_staging(2))
        cards = [m for m in await chat.thread(ts) if m.get("blocks") and "v1:" in m["text"]]
        assert len(cards) == 1  # edited after the restart, never posted again
        await said_once(chat)
    finally:
        await again.stop()
