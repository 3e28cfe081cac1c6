"""Each kind of work has its own queue and slots: with every Docker slot taken by
builds, a delivery's card, a status answer and another delivery's planning still go
through at once, and the stage that has no slot says it waits for a free worker."""

from __future__ import annotations

import asyncio
import uuid

from cli.worker import build_workers
from shipmate import status_report
from testkit.chat import letters, start_bot
from testkit.fake_stages import Script
from testkit.waiting import eventually


async def waiting_lines(client, service: str) -> list[str]:
    report = await status_report.gather(client, service, with_pending=True)
    return [
        line.strip()
        for line in status_report.render_text(report).splitlines()
        if "waiting for a free worker" in line
    ]


async def test_slack_never_waits_behind_a_full_docker_queue(client, slack_settings, chat, emulator):
    busy = asyncio.Event()
    script = Script(block={"test_service": busy, "build_service_image": busy})
    local = slack_settings.model_copy(
        update={"task_queue": f"split-{uuid.uuid4().hex[:6]}", "docker_slots": 2}
    )
    first, second = f"kiln{letters()}", f"loom{letters()}"
    async with build_workers(client, local, stages=script.activities()):
        bot = await start_bot(local, emulator)
        try:
            ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {first} api")
            await chat.card(ts, "in progress")
            # the first delivery's test and build hold both Docker slots
            await eventually(
                lambda: script.calls["test_service"] and script.calls["build_service_image"],
                what="test and build running",
            )

            later = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {second} api")
            card = await chat.card(later, "in progress")  # posted: Slack has its own slots
            assert f"{second}-api" in card["text"]
            asked = await chat.say("U0CAROL", "<@U0SHIPMATE> what's deployed in staging?")
            answer = await chat.wait_for(asked, lambda reply: True)
            assert "staging" in answer["text"]
            # the second scaffold has no Docker slot: it waits, and status says so
            lines = await eventually(
                lambda: waiting_lines(client, f"{second}-api"), what="the scaffold waiting"
            )
            assert lines == ["scaffold: attempt 1, waiting for a free worker"]
            assert script.calls["scaffold_service"] == 1 and not busy.is_set()

            busy.set()
            for thread in (ts, later):
                await chat.card(thread, "waiting for approval")
        finally:
            busy.set()
            await bot.close_async()
