"""`shipmate emulator --request-url URL` is Slack in HTTP mode: it POSTs signed events to
the bot's URL, so a `shipmate bot` with SHIPMATE_SLACK_MODE=http is tried as Slack's
Events API would drive it, both as processes of their own.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from pydantic import SecretStr

from cli import devstack
from cli.worker import WORKFLOWS, slack_activities
from slack_emulator.workspace import DEFAULT_SEED
from testkit.chat import Chat
from testkit.fake_stages import on_every_queue

TOKENS = DEFAULT_SEED["tokens"]


async def test_the_emulator_posts_signed_events_to_the_request_url(settings, client, tmp_path):
    ports = {name: devstack.free_port() for name in ("slack", "bot")}
    events_url = f"http://127.0.0.1:{ports['bot']}/slack/events"
    queue = f"request-url-{uuid.uuid4().hex[:6]}"
    env = {
        "SHIPMATE_TEMPORAL_ADDRESS": settings.temporal_address,
        "SHIPMATE_TASK_QUEUE": queue,
        "SHIPMATE_SLACK_MODE": "http",
        "SHIPMATE_SLACK_BOT_TOKEN": TOKENS["bot"],
        "SHIPMATE_SLACK_SIGNING_SECRET": TOKENS["signing_secret"],
        "SHIPMATE_SLACK_APP_ID": DEFAULT_SEED["app_id"],
        "SHIPMATE_SLACK_API_URL": f"http://127.0.0.1:{ports['slack']}/api/",
        "SHIPMATE_BOT_PORT": str(ports["bot"]),
        "SHIPMATE_STATE_DIR": str(tmp_path),
    }
    emulator = devstack.emulator_part(ports["slack"])
    emulator.argv = [
        sys.executable,
        *["-m", "cli.main", "emulator", "--port", str(ports["slack"])],
        *["--request-url", events_url],
    ]
    bot = devstack.bot_part(SimpleNamespace(bot_port=ports["bot"]), env)
    # The bot's replies go through the channel's outbox, which a worker sends.
    local = settings.model_copy(
        update={
            "task_queue": queue,
            "slack_bot_token": SecretStr(TOKENS["bot"]),
            "slack_api_url": env["SHIPMATE_SLACK_API_URL"],
        }
    )
    with (
        devstack.LocalStack(echo=lambda line: None) as stack,
        ThreadPoolExecutor(max_workers=2) as executor,
    ):
        await asyncio.to_thread(stack.start, emulator)
        await asyncio.to_thread(stack.start, bot)
        worker = on_every_queue(
            client,
            task_queue=queue,
            workflows=WORKFLOWS,
            activities=slack_activities(local),
            activity_executor=executor,
        )
        async with worker:
            chat = Chat(SimpleNamespace(base_url=f"http://127.0.0.1:{ports['slack']}"))
            ts = await chat.say("U0ALICE", "<@U0SHIPMATE> help")
            reply = await chat.wait_for(ts, lambda r: r["user"] == "U0SHIPMATE")
            assert "I build and ship backend services" in reply["text"]
            (mention,) = await chat.deliveries("app_mention")
            assert (mention["transport"], mention["acked"]) == ("http", True), mention
        await asyncio.to_thread(stack.stop)
    assert all("Traceback" not in line for line in emulator.log_lines + bot.log_lines)
