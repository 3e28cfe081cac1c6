"""A channel's outbox with a long backlog under a 429 storm:
`python -m benchmarks.outbox_backlog`.

3,000 messages are queued in one outbox while every Slack call is answered 429; each is
asked for a second time once the outbox has continued as new (a redelivered event, a
retried activity). Printed: how many arrived, how many were lost or doubled, how many
runs the outbox took (each continue-as-new carries the queue, or stashes it when too
big), the longest history of any run, the largest state handed from one run to the
next, and the time to drain. A real Temporal dev server and worker run the real
SlackOutbox and its Slack call; the emulator keeps Slack's rate limits in their shape,
scaled up (`SCALE`) so the drain takes minutes, not Slack's hour. Figures are printed,
never asserted.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from pydantic import SecretStr

from cli import devstack
from shipmate.settings import Settings
from shipmate.temporal import connect
from slack_emulator.server import EmulatorConfig, EmulatorServer
from testkit.chat import TOKENS, Chat
from testkit.fake_stages import Script, worker_with_slack
from testkit.outbox import queue_in_outbox
from workflows.outbox_messages import OutboxState, OutgoingMessage
from workflows.outbox_workflow import SlackOutbox

MESSAGES = 3000
STORM_SECONDS = 30
SCALE = 20  # the emulator's tiers times this: ephemerals at 2,000 a minute, not 100
CHANNEL, USER = "C0DEPLOYS", "U0CAROL"


async def _runs(client, workflow_id: str) -> list:
    query = f'WorkflowId = "{workflow_id}"'
    return [run async for run in client.list_workflows(query)]


async def _largest_hand_on(client, workflow_id: str) -> int:
    """Bytes of the largest state a run handed to the next (Temporal refuses over 2 MB)."""
    largest = 0
    for run in await _runs(client, workflow_id):
        handle = client.get_workflow_handle(workflow_id, run_id=run.run_id)
        async for event in handle.fetch_history_events():
            if event.HasField("workflow_execution_continued_as_new_event_attributes"):
                handed = event.workflow_execution_continued_as_new_event_attributes.input
                largest = max(largest, handed.ByteSize())
    return largest


async def _longest_history(client, workflow_id: str) -> int:
    longest = 0
    for run in await _runs(client, workflow_id):
        handle = client.get_workflow_handle(workflow_id, run_id=run.run_id)
        longest = max(
            longest,
            (await handle.describe()).raw_description.workflow_execution_info.history_length,
        )
    return longest


async def backlog(client, settings: Settings, emulator: EmulatorServer) -> None:
    chat = Chat(emulator)
    messages = [
        OutgoingMessage(key=f"backlog/{n}", channel=CHANNEL, text=f"backlog {n}", private_to=USER)
        for n in range(MESSAGES)
    ]
    async with httpx.AsyncClient() as web:
        await web.post(
            f"{emulator.base_url}/_emulator/ratelimits", json={"storm_seconds": STORM_SECONDS}
        )
    started = time.monotonic()
    handle = await queue_in_outbox(
        client, settings.task_queue, OutboxState(channel=CHANNEL), messages
    )
    queued = time.monotonic() - started
    while len(await _runs(client, handle.id)) < 2 and time.monotonic() - started < 600:
        await asyncio.sleep(1)
    rolled = time.monotonic() - started
    for message in messages:  # each asked for again, after the roll-over
        await client.get_workflow_handle(handle.id).signal(SlackOutbox.enqueue, message)

    seen: Counter = Counter()
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        seen = Counter(t for t in await chat.ephemeral(USER) if t.startswith("backlog "))
        left = await client.get_workflow_handle(handle.id).query(SlackOutbox.waiting)
        if len(seen) >= MESSAGES and left == 0:
            break
        await asyncio.sleep(2)
    drained = time.monotonic() - started
    await asyncio.sleep(5)  # a second copy of any message would show by now
    seen = Counter(t for t in await chat.ephemeral(USER) if t.startswith("backlog "))
    expected = Counter(m.text for m in messages)
    runs = await _runs(client, handle.id)
    arrived = sum(1 for text in expected if seen[text])
    doubled = sum(1 for text in seen if seen[text] > 1)
    longest = await _longest_history(client, handle.id)
    print(f"outbox backlog: {MESSAGES} messages queued in {queued:.1f} s")
    print(f"  under a {STORM_SECONDS} s 429 storm; first continue-as-new after {rolled:.1f} s")
    print(
        f"  each asked for again after it: arrived {arrived}/{MESSAGES}, lost {MESSAGES - arrived}"
    )
    print(f"  doubled {doubled}; runs {len(runs)}, longest history {longest} events")
    handed = await _largest_hand_on(client, handle.id)
    print(f"  largest state handed to the next run: {handed / 1000:.0f} KB")
    print(f"  drained in {drained:.0f} s (Slack's limits x{SCALE})")


async def main() -> None:
    with tempfile.TemporaryDirectory() as state, devstack.LocalStack() as stack:
        port, ui = devstack.free_port(), devstack.free_port()
        stack.start(devstack.temporal_part(Path(state), port, ui))
        emulator = await EmulatorServer(EmulatorConfig(port=0, rate_limit_scale=SCALE)).start()
        settings = Settings(
            temporal_address=f"127.0.0.1:{port}",
            temporal_ui_port=ui,
            task_queue="backlog",
            slack_bot_token=SecretStr(TOKENS["bot"]),
            slack_app_token=SecretStr(TOKENS["app"]),
            slack_api_url=f"{emulator.base_url}/api/",
            state_dir=Path(state),
        )
        client = await connect(settings)
        try:
            with ThreadPoolExecutor(max_workers=8) as executor:
                async with worker_with_slack(client, settings, Script(), executor):
                    await backlog(client, settings, emulator)
        finally:
            await emulator.stop()


if __name__ == "__main__":
    import logging

    logging.disable(logging.WARNING)
    asyncio.run(main())
