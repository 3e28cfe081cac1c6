"""Event delivery from the emulator to a real slack-bolt AsyncApp: Socket Mode and HTTP.

The bolt app is stock (its own signature verifier, its own Socket Mode client); only
its base URL points at the emulator.
"""

from __future__ import annotations

import json

import httpx
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator.server import EmulatorConfig, EmulatorServer
from slack_emulator.workspace import DEFAULT_SEED
from testkit.waiting import eventually

TOKENS = DEFAULT_SEED["tokens"]


async def post(url: str, body: dict) -> dict:
    async with httpx.AsyncClient() as web_client:
        return (await web_client.post(url, json=body)).json()


async def get(url: str) -> dict:
    async with httpx.AsyncClient() as web_client:
        return (await web_client.get(url)).json()


def echo_app(emulator: EmulatorServer, **kwargs) -> AsyncApp:
    """A stock bolt app: replies in the thread to mentions, answers button clicks and
    the /shipmate command."""
    client = AsyncWebClient(token=TOKENS["bot"], base_url=f"{emulator.base_url}/api/")
    app = AsyncApp(client=client, **kwargs)

    @app.event("app_mention")
    async def mention(event, say):
        await say(
            text=f"heard: {event['text']}",
            thread_ts=event.get("thread_ts") or event["ts"],
            blocks=[
                {"type": "section", "text": {"type": "mrkdwn", "text": "Ship it?"}},
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "approve",
                            "style": "primary",
                            "value": "delivery/x/1",
                            "text": {"type": "plain_text", "text": "Approve"},
                        },
                    ],
                },
            ],
        )

    @app.event("message")
    async def message(event):
        pass

    @app.command("/shipmate")
    async def command(ack, command, respond):
        await ack()
        await respond(f"ran {command['command']} {command['text']} in {command['channel_id']}")

    @app.action("approve")
    async def approve(ack, body, respond, client):
        await ack()
        await client.chat_postEphemeral(
            channel=body["channel"]["id"],
            user=body["user"]["id"],
            text=f"approved {body['actions'][0]['value']}",
        )
        await respond(text="Approved", replace_original=True)

    return app


async def talk_to(emulator: EmulatorServer) -> None:
    """alice mentions the bot, bob clicks Approve: what a person would see."""
    base = emulator.base_url
    said = await post(
        f"{base}/_emulator/messages",
        {"user": "U0ALICE", "channel": "C0GENERAL", "text": "<@U0SHIPMATE> build a todo api"},
    )

    async def reply():
        messages = (await get(f"{base}/_emulator/channels/C0GENERAL/messages"))["messages"]
        thread = next(m for m in messages if m["ts"] == said["ts"])
        return thread["replies"]

    [answer] = await eventually(reply)
    assert answer["text"] == "heard: <@U0SHIPMATE> build a todo api"
    assert answer["thread_ts"] == said["ts"]
    clicked = await post(
        f"{base}/_emulator/actions",
        {
            "user": "U0BOB",
            "channel": "C0GENERAL",
            "message_ts": answer["ts"],
            "action_id": "approve",
        },
    )
    assert clicked["ok"]

    async def ephemeral():
        return (await get(f"{base}/_emulator/ephemeral/U0BOB"))["messages"]

    [note] = await eventually(ephemeral)
    assert note["text"] == "approved delivery/x/1"

    async def replaced():
        return [r for r in await reply() if r["text"] == "Approved"]

    await eventually(replaced)

    ran = await post(
        f"{base}/_emulator/commands",
        {"user": "U0CAROL", "channel": "C0DEPLOYS", "command": "/shipmate", "text": "status"},
    )
    assert ran["ok"]

    async def answered_to_carol():
        return (await get(f"{base}/_emulator/ephemeral/U0CAROL"))["messages"]

    [answer] = await eventually(answered_to_carol, what="the command's answer")
    assert answer["text"] == "ran /shipmate status in C0DEPLOYS"
    assert answer["channel"] == "C0DEPLOYS"


async def test_a_stock_bolt_app_in_socket_mode_chats_and_clicks():
    emulator = await EmulatorServer(EmulatorConfig(port=0, rate_limits=False)).start()
    app = echo_app(emulator)
    handler = AsyncSocketModeHandler(
        app,
        TOKENS["app"],
        web_client=AsyncWebClient(base_url=f"{emulator.base_url}/api/"),
    )
    await handler.connect_async()
    try:
        await eventually(lambda: emulator.events.sockets, what="a socket connection")
        await talk_to(emulator)
        deliveries = (await get(f"{emulator.base_url}/_emulator/deliveries"))["deliveries"]
        kinds = [(d["type"], d["event_type"]) for d in deliveries]
        assert ("events_api", "app_mention") in kinds
        assert ("events_api", "message") in kinds
        assert ("interactive", "block_actions") in kinds
        assert ("slash_commands", "slash_commands") in kinds
        assert all(d["acked"] and d["transport"] == "socket_mode" for d in deliveries)
        # within Slack's 3 s, or the emulator would have sent it again
        assert all(len(d["attempts"]) == 1 for d in deliveries), deliveries
    finally:
        await handler.close_async()
        await emulator.stop()


async def test_a_stock_bolt_app_over_signed_http_chats_and_clicks():
    bolt_runner = None
    emulator = await EmulatorServer(EmulatorConfig(port=0, rate_limits=False)).start()
    try:
        app = echo_app(emulator, signing_secret=TOKENS["signing_secret"])
        bolt_runner = web.AppRunner(app.web_app(path="/slack/events"))
        await bolt_runner.setup()
        site = web.TCPSite(bolt_runner, "127.0.0.1", 0)
        await site.start()
        port = bolt_runner.addresses[0][1]
        emulator.events.request_url = f"http://127.0.0.1:{port}/slack/events"
        await talk_to(emulator)
        deliveries = (await get(f"{emulator.base_url}/_emulator/deliveries"))["deliveries"]
        assert deliveries and all(d["transport"] == "http" and d["acked"] for d in deliveries)
        assert "slash_commands" in [d["type"] for d in deliveries]
    finally:
        if bolt_runner:
            await bolt_runner.cleanup()
        await emulator.stop()


async def test_http_events_are_signed_and_a_failed_one_is_retried_with_slacks_headers():
    received: list[tuple[dict, bool]] = []
    verifier = SignatureVerifier(TOKENS["signing_secret"])

    async def endpoint(request: web.Request) -> web.Response:
        body = await request.read()
        received.append((dict(request.headers), verifier.is_valid_request(body, request.headers)))
        return web.Response(status=500 if len(received) == 1 else 200)  # the first one fails

    target = web.Application()
    target.router.add_post("/events", endpoint)
    runner = web.AppRunner(target)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/events"
    emulator = await EmulatorServer(EmulatorConfig(port=0, request_url=url)).start()
    try:
        await post(
            f"{emulator.base_url}/_emulator/messages",
            {"user": "U0ALICE", "channel": "C0GENERAL", "text": "hello"},
        )
        await eventually(lambda: len(received) >= 2, what="an event and its redelivery")
        headers, valid = received[0]
        assert valid
        assert headers["X-Slack-Signature"].startswith("v0=")
        assert "X-Slack-Retry-Num" not in headers
        retried, still_valid = received[1]
        assert still_valid
        assert retried["X-Slack-Retry-Num"] == "1"
        assert retried["X-Slack-Retry-Reason"] == "http_error"
        forged = {**headers, "X-Slack-Signature": "v0=" + "0" * 64}
        assert not verifier.is_valid_request(b"{}", forged)
    finally:
        await emulator.stop()
        await runner.cleanup()


async def test_an_unacked_envelope_is_redelivered_with_retry_attempt():
    emulator = await EmulatorServer(
        EmulatorConfig(port=0, rate_limits=False, ack_timeout=0.5)
    ).start()
    seen: list[dict] = []

    async def listener(client: SocketModeClient, request) -> None:
        seen.append({"attempt": request.retry_attempt, "reason": request.retry_reason})
        if len(seen) > 1:  # ignore the first delivery, ack the retry
            await client.send_socket_mode_response(SocketModeResponse(request.envelope_id))

    client = SocketModeClient(
        app_token=TOKENS["app"], web_client=AsyncWebClient(base_url=f"{emulator.base_url}/api/")
    )
    client.socket_mode_request_listeners.append(listener)
    await client.connect()
    try:
        await eventually(lambda: emulator.events.sockets, what="a socket connection")
        await post(
            f"{emulator.base_url}/_emulator/messages",
            {"user": "U0ALICE", "channel": "C0GENERAL", "text": "anyone?"},
        )
        await eventually(lambda: len(seen) >= 2, what="a redelivery")
        assert seen[:2] == [{"attempt": 0, "reason": ""}, {"attempt": 1, "reason": "timeout"}]
        [delivery] = (await get(f"{emulator.base_url}/_emulator/deliveries"))["deliveries"]
        assert delivery["acked"] is True
        assert [a.get("error") for a in delivery["attempts"]] == ["timeout", None]
    finally:
        await client.close()
        await emulator.stop()


async def test_with_no_bot_connected_deliveries_are_logged_as_undelivered():
    emulator = await EmulatorServer(EmulatorConfig(port=0)).start()
    try:
        await post(
            f"{emulator.base_url}/_emulator/messages",
            {"user": "U0ALICE", "channel": "C0GENERAL", "text": "<@U0SHIPMATE> hi"},
        )

        async def logged():
            deliveries = (await get(f"{emulator.base_url}/_emulator/deliveries"))["deliveries"]
            return [d for d in deliveries if d["status"] == "undelivered"]

        assert len(await eventually(logged)) == 2  # the message and the mention
    finally:
        await emulator.stop()


def test_envelopes_are_json_with_slacks_fields():
    # The shape bolt's Socket Mode client parses; a regression here breaks every bot.
    from slack_emulator.events import EventDispatcher
    from slack_emulator.workspace import Workspace

    payload = EventDispatcher(Workspace.from_seed()).event_callback(
        {"type": "app_mention", "text": "hi", "user": "U0ALICE", "channel": "C0GENERAL"}
    )
    assert payload["type"] == "event_callback"
    assert payload["event"]["event_ts"]
    assert payload["authorizations"][0]["user_id"] == "U0SHIPMATE"
    json.dumps(payload)
