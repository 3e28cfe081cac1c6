"""The bot in HTTP mode: signed events from the emulator work, forged ones get 401."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.app import TemporalLink
from bot.runner import http_app
from cli.worker import WORKFLOWS, slack_activities
from slack_emulator.events import sign
from slack_emulator.server import EmulatorConfig, EmulatorServer
from testkit.chat import TOKENS, Chat
from testkit.fake_stages import on_every_queue


def signed(body: bytes, age: int = 0) -> dict[str, str]:
    """Headers Slack would send with `body`, signed `age` seconds ago."""
    timestamp = str(int(time.time()) - age)
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(TOKENS["signing_secret"], timestamp, body),
    }


@pytest.fixture()
async def http_bot(settings, client):
    emulator = await EmulatorServer(EmulatorConfig(port=0)).start()
    local = settings.model_copy(
        update={
            "task_queue": f"http-{uuid.uuid4().hex[:6]}",
            "slack_mode": "http",
            "slack_bot_token": SecretStr(TOKENS["bot"]),
            "slack_signing_secret": SecretStr(TOKENS["signing_secret"]),
            "slack_api_url": f"{emulator.base_url}/api/",
            "slack_app_id": "A0SHIPMATE",
        }
    )
    runner = web.AppRunner(http_app(local, TemporalLink(local)))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    emulator.events.request_url = url
    # The bot's replies go through the channel's outbox, which a worker sends.
    worker = on_every_queue(
        client,
        task_queue=local.task_queue,
        workflows=WORKFLOWS,
        activities=slack_activities(local),
        activity_executor=ThreadPoolExecutor(max_workers=2),
    )
    async with worker:
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
    headers = signed(body, age=600 if forgery == "stale timestamp" else 0)
    if forgery == "wrong signature":
        timestamp = headers["X-Slack-Request-Timestamp"]
        headers["X-Slack-Signature"] = sign("not-the-secret", timestamp, body)
    if forgery == "no headers":
        headers = {"Content-Type": "application/json"}
    async with httpx.AsyncClient() as web_client:
        response = await web_client.post(url, content=body, headers=headers)
    assert response.status_code == 401
    await asyncio.sleep(0.2)
    assert await Chat(emulator).messages() == []  # nothing was acted on


async def test_an_event_for_another_app_is_acked_and_starts_nothing(http_bot, caplog):
    emulator, url = http_bot
    chat = Chat(emulator)

    async def send(app_id: str) -> str:
        """alice's mention, in the workspace, delivered to the bot as if for `app_id`."""
        channel = emulator.workspace.channel("C0GENERAL")
        said = emulator.workspace.post(channel, "U0ALICE", "<@U0SHIPMATE> help")
        mention = {
            "type": "app_mention",
            "user": "U0ALICE",
            "channel": "C0GENERAL",
            "text": said["text"],
            "ts": said["ts"],
        }
        event = {**emulator.events.event_callback(mention), "api_app_id": app_id}
        body = json.dumps(event).encode()
        async with httpx.AsyncClient() as web_client:
            response = await web_client.post(url, content=body, headers=signed(body))
        assert response.status_code == 200  # acked either way, so Slack does not retry it
        return said["ts"]

    elsewhere = await send("A0SOMEONEELSE")
    ours = await send("A0SHIPMATE")
    await chat.wait_for(ours, lambda r: "I build and ship backend services" in r["text"])
    assert await chat.thread(elsewhere) == []
    assert "ignored event_callback meant for app A0SOMEONEELSE" in caplog.text


MALFORMED = {
    "broken json": (b"{not json", "application/json"),
    "a json list": (b"[1,2]", "application/json"),
    "invalid utf-8": (b'{"type": "\xff\xfe"}', "application/json"),
    "a form without payload": (b"hello=world", "application/x-www-form-urlencoded"),
    "a payload that is a list": (b"payload=%5B1%5D", "application/x-www-form-urlencoded"),
    "not a form at all": (b"\x00\x01\x02", "application/x-www-form-urlencoded"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_bodies_get_400_when_signed_and_401_when_not(http_bot, case, caplog):
    emulator, url = http_bot
    body, content_type = MALFORMED[case]
    async with httpx.AsyncClient() as web_client:
        unsigned = await web_client.post(url, content=body, headers={"Content-Type": content_type})
        forged = {**signed(body), "Content-Type": content_type, "X-Slack-Signature": "v0=bad"}
        bad_signature = await web_client.post(url, content=body, headers=forged)
        good = {**signed(body), "Content-Type": content_type}
        malformed = await web_client.post(url, content=body, headers=good)
    assert (unsigned.status_code, bad_signature.status_code) == (401, 401)
    assert malformed.status_code == 400
    assert "Traceback" not in caplog.text and "Traceback" not in malformed.text
    await asyncio.sleep(0.2)
    assert await Chat(emulator).messages() == []  # nothing was acted on
