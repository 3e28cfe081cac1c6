"""Slack while every Docker slot is busy: `python -m benchmarks.busy_builders`.

Six deliveries test and build at once (their stages held for BUSY_SECONDS, more than the
worker's Docker slots can take), and meanwhile 20 people ask "@shipmate what's
deployed?". Printed: how many are answered and how soon, and how long each kind of
activity waited for a worker slot (schedule to start, read from the histories). With
one queue for everything, the Slack calls waited behind the builds; with a queue per
kind, they should not wait at all. Figures are printed, never asserted.

The workers are the real `build_workers` (the real slots, the real notify, outbox and
Slack calls); only the stages are the tests' scripted stand-ins.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

from pydantic import SecretStr
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient
from temporalio.api.enums.v1 import EventType

from benchmarks.slack_load import name, percentile, questions
from bot.app import TemporalLink, build_app
from cli import devstack
from cli.identity import DEV_DEVELOPERS
from cli.worker import build_workers
from shipmate.settings import Settings
from shipmate.temporal import connect
from testkit.chat import TOKENS, Chat
from testkit.fake_stages import Script

BUSY_SECONDS = 40
DELIVERIES = 6


async def slot_waits(client) -> dict[str, list[float]]:
    """Seconds from scheduled to started, by task queue, over every workflow's history."""
    waits: dict[str, list[float]] = defaultdict(list)
    async for execution in client.list_workflows():
        scheduled = {}
        async for event in client.get_workflow_handle(execution.id).fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                queue = event.activity_task_scheduled_event_attributes.task_queue.name
                scheduled[event.event_id] = (queue, event.event_time.ToDatetime())
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                attributes = event.activity_task_started_event_attributes
                queue, at = scheduled[attributes.scheduled_event_id]
                waits[queue].append((event.event_time.ToDatetime() - at).total_seconds())
    return waits


async def main() -> None:
    with tempfile.TemporaryDirectory() as state, devstack.LocalStack() as stack:
        port, ui, slack_port = devstack.free_port(), devstack.free_port(), devstack.free_port()
        stack.start(devstack.temporal_part(Path(state), port, ui))
        stack.start(devstack.emulator_part(slack_port))  # rate limits on, as under dev
        emulator = SimpleNamespace(base_url=f"http://127.0.0.1:{slack_port}")
        settings = Settings(
            temporal_address=f"127.0.0.1:{port}",
            task_queue="busy",
            developers=list(DEV_DEVELOPERS),  # as under `shipmate dev`
            slack_bot_token=SecretStr(TOKENS["bot"]),
            slack_app_token=SecretStr(TOKENS["app"]),
            slack_api_url=f"{emulator.base_url}/api/",
            state_dir=Path(state),
        )
        client = await connect(settings)
        held = asyncio.Event()
        script = Script(block={"test_service": held, "build_service_image": held})
        async with build_workers(client, settings, stages=script.activities()):
            bot = AsyncSocketModeHandler(
                build_app(settings, TemporalLink(settings)),
                TOKENS["app"],
                web_client=AsyncWebClient(base_url=settings.slack_api_url),
            )
            await bot.connect_async()
            chat = Chat(emulator)
            started = time.monotonic()
            for _ in range(DELIVERIES):
                await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name()} api")
            while script.calls["test_service"] + script.calls["build_service_image"] < (
                settings.docker_slots
            ):
                await asyncio.sleep(0.2)
            print(
                f"{DELIVERIES} deliveries; the {settings.docker_slots} Docker slots are full "
                f"after {time.monotonic() - started:.1f} s; asking 20 questions"
            )
            await questions(chat)
            release = BUSY_SECONDS - (time.monotonic() - started)
            await asyncio.sleep(max(0.0, release))
            held.set()
            while script.calls["push_service_image"] < DELIVERIES:  # every build went through
                await asyncio.sleep(0.2)
            await bot.close_async()
        for queue, waits in sorted((await slot_waits(client)).items()):
            print(
                f"  {queue}: {len(waits)} activities waited for a slot p50 "
                f"{percentile(waits, 0.5):.2f} s, p99 {percentile(waits, 0.99):.2f} s, "
                f"max {max(waits):.2f} s"
            )


if __name__ == "__main__":
    import logging

    logging.disable(logging.WARNING)
    asyncio.run(main())
