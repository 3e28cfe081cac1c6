"""The bot in HTTP mode: signed events from the emulator work, forged ones get 401."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.app import TemporalLink, build_app
from bot.emulator.events import sign
from bot.emulator.server import EmulatorConfig, EmulatorServer
from tests.test_bot import TOKENS, Chat


@pytest.fixture()
async def http_bot(settings):
    emulator = await EmulatorServer(EmulatorConfig(port=0)).start()
    local = settings.model_copy(
        update={
            "task_queue": f"http-{uuid.uuid4().hex[:6]}",
            "slack_mode": "http",
            "slack_bot_token": SecretStr(TOKENS["bot"]),
            "slack_signing_secret": SecretStr(TOKENS["signing_secret"]),
            "slack_api_url": f"{emulator.base_url}/api/",
        }
    )
    app = build_app(local, TemporalLink(local), signing_secret=TOKENS["signing_secret"])
    runner = web.AppRunner(app.web_app(path="/slack/events"))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    emulator.events.request_url = url
    yield emulator, url
    await runner.cleanup()
    await emulator.stop()


async def test_signed_events_are_answered(http_bot):
    emulator, _ = http_bot
    chat = Chat(emulator)
    ts = await chat.say("U0ALICE", "<@U0SHIPMATE> help")
    reply = await chat.wait_for(ts, lambda r: True)
    assert "I build and ship backend services" in reply["text"]


@pytest.mark.parametrize("forgery", ["wrong signature", "stale timestamp", "no headers"])
async def test_forged_or_stale_requests_are_refused(http_bot, forgery):
    emulator, url = http_bot
    body = b'{"type": "event_callback", "event": {"type": "app_mention", "text": "hi"}}'
    timestamp = str(int(time.time()) - (600 if forgery == "stale timestamp" else 0))
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(TOKENS["signing_secret"], timestamp, body),
    }
    if forgery == "wrong signature":
        headers["X-Slack-Signature"] = sign("not-the-secret", timestamp, body)
    if forgery == "no headers":
        headers = {"Content-Type": "application/json"}
    async with httpx.AsyncClient() as web_client:
        response = await web_client.post(url, content=body, headers=headers)
    assert response.status_code == 401
    await asyncio.sleep(0.2)
    messages = (
        await Chat(emulator).web.get(f"{emulator.base_url}/_emulator/channels/C0GENERAL/messages")
    ).json()["messages"]
    assert messages == []  # nothing was acted on
