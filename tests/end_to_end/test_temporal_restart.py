"""Temporal itself going away: a request made while it is down is picked up by `retry`,
and a delivery waiting at its gate outlives a restart of the server.

The session's Temporal is shared, so this test runs one of its own (a dev server on
its SQLite file, as `shipmate dev` runs it) and stops and starts it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from cli import devstack
from shipmate.temporal import connect
from testkit.chat import letters, start_bot
from testkit.fake_stages import Script, worker_with_slack


def _temporal(state, port: int, ui_port: int) -> devstack.LocalStack:
    stack = devstack.LocalStack(echo=lambda line: None)
    stack.start(devstack.temporal_part(state, port, ui_port))
    return stack


async def test_retry_after_an_outage_and_a_server_restart_lose_nothing(
    chat, emulator, slack_settings, tmp_path
):
    port, ui_port = devstack.free_port(), devstack.free_port()
    local = slack_settings.model_copy(update={"temporal_address": f"127.0.0.1:{port}"})
    name = f"relay{letters()}"
    bot = await start_bot(local, emulator)
    temporal = None
    try:
        # Temporal is down: the request is kept in the thread, nothing starts
        ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name} api")
        down = await chat.wait_for(ts, lambda reply: True)
        assert "I can't reach the workflow engine" in down["text"]
        assert "reply `retry` here" in down["text"]

        temporal = _temporal(tmp_path, port, ui_port)
        client = await connect(local)
        with ThreadPoolExecutor(max_workers=4) as executor:
            async with worker_with_slack(client, local, Script(), executor):
                await chat.say("U0ALICE", "<@U0SHIPMATE> retry", thread_ts=ts)
                card = await chat.card(ts, "waiting for approval")
                assert f"{name}-api" in card["text"]

                # the server restarts on its own file; the gate and the card are still there
                temporal.stop()
                temporal = _temporal(tmp_path, port, ui_port)
                await chat.click("U0BOB", card["ts"], "approve")
                delivered = await chat.card(ts, "delivered")
                assert f"http://{name}-api.staging.local" in str(delivered)
    finally:
        await bot.close_async()
        if temporal:
            temporal.stop()
