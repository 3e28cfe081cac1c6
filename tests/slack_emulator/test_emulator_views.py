"""Modals and App Home with a stock slack-bolt app, over Socket Mode and signed HTTP."""

from __future__ import annotations

from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator.server import API, EmulatorConfig, EmulatorServer
from testkit.waiting import eventually
from tests.slack_emulator.test_emulator_events import TOKENS, get, post

FORM = {
    "type": "modal",
    "callback_id": "new_service",
    "title": {"type": "plain_text", "text": "New service"},
    "submit": {"type": "plain_text", "text": "Create"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "private_metadata": "C0GENERAL",
    "blocks": [
        {
            "type": "input",
            "block_id": "service",
            "label": {"type": "plain_text", "text": "Service name"},
            "element": {"type": "plain_text_input", "action_id": "name", "min_length": 3},
        },
        {
            "type": "input",
            "block_id": "notes",
            "optional": True,
            "label": {"type": "plain_text", "text": "Notes"},
            "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
        },
    ],
}
OPEN_BUTTON = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Start a service"}},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "open_form",
                "text": {"type": "plain_text", "text": "New service"},
            }
        ],
    },
]


def modal_app(emulator: EmulatorServer, seen: list, **kwargs) -> AsyncApp:
    """A stock bolt app: a button opens a form; a taken name is refused by the app."""
    client = AsyncWebClient(token=TOKENS["bot"], base_url=f"{emulator.base_url}/api/")
    app = AsyncApp(client=client, **kwargs)

    @app.event("message")
    async def message():
        pass

    @app.action("open_form")
    async def open_form(ack, body, client):
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=FORM)

    @app.view("new_service")
    async def submitted(ack, body, view):
        seen.append(body)
        name = view["state"]["values"]["service"]["name"]["value"]
        if name == "taken":
            await ack(response_action="errors", errors={"service": "That name is taken"})
        else:
            await ack()

    @app.event("app_home_opened")
    async def home(event, client):
        await client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": "Waiting on you"}},
                    {
                        "type": "section",
                        "text": {"type": "mrkdwn", "text": "*todo-api v3* → production"},
                        "accessory": {
                            "type": "button",
                            "action_id": "approve",
                            "style": "primary",
                            "value": "todo-api/3",
                            "text": {"type": "plain_text", "text": "Approve"},
                        },
                    },
                ],
            },
        )

    @app.action("approve")
    async def approve(ack, body):
        await ack()
        seen.append(body)

    return app


@asynccontextmanager
async def connected(transport: str, seen: list, ack_timeout: float = 3.0):
    """An emulator with the modal app connected over `transport` (socket or http)."""
    config = EmulatorConfig(port=0, rate_limits=False, ack_timeout=ack_timeout)
    emulator = await EmulatorServer(config).start()
    handler = runner = None
    try:
        if transport == "socket":
            handler = AsyncSocketModeHandler(
                modal_app(emulator, seen),
                TOKENS["app"],
                web_client=AsyncWebClient(base_url=f"{emulator.base_url}/api/"),
            )
            await handler.connect_async()
            await eventually(lambda: emulator.events.sockets, what="a socket connection")
        else:
            app = modal_app(emulator, seen, signing_secret=TOKENS["signing_secret"])
            runner = web.AppRunner(app.web_app(path="/slack/events"))
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            emulator.events.request_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
        yield emulator
    finally:
        if handler:
            await handler.close_async()
        if runner:
            await runner.cleanup()
        await emulator.stop()


async def open_form(emulator: EmulatorServer, user: str = "U0ALICE") -> dict:
    """The bot posts a button; the person clicks it; the app opens the form for them."""
    slack = AsyncWebClient(token=TOKENS["bot"], base_url=f"{emulator.base_url}/api/")
    posted = await slack.chat_postMessage(channel="C0GENERAL", text="start", blocks=OPEN_BUTTON)
    clicked = await post(
        f"{emulator.base_url}/_emulator/actions",
        {
            "user": user,
            "channel": "C0GENERAL",
            "message_ts": posted["ts"],
            "action_id": "open_form",
        },
    )
    assert clicked["ok"]

    async def modals():
        return (await get(f"{emulator.base_url}/_emulator/modals/{user}"))["views"]

    [view] = await eventually(modals, what="the form opened by the app")
    return view


@pytest.mark.parametrize("transport", ["socket", "http"])
async def test_a_form_opens_refuses_and_submits_through_the_app(transport):
    seen: list[dict] = []
    async with connected(transport, seen) as emulator:
        base = emulator.base_url
        view = await open_form(emulator)
        assert view["title"]["text"] == "New service"
        assert view["private_metadata"] == "C0GENERAL"
        submit = f"{base}/_emulator/views/{view['id']}/submit"
        deliveries = len(emulator.events.deliveries)

        empty = await post(submit, {"user": "U0ALICE", "values": {"service": {"name": "  "}}})
        assert empty == {
            "ok": False,
            "error": "invalid_submission",
            "errors": {"service": "Please complete this required field."},
        }
        short = await post(submit, {"user": "U0ALICE", "values": {"service": {"name": "ab"}}})
        assert short["errors"] == {"service": "Please enter at least 3 characters."}
        assert len(emulator.events.deliveries) == deliveries  # the client sent nothing
        assert seen == []

        taken = await post(submit, {"user": "U0ALICE", "values": {"service": {"name": "taken"}}})
        assert taken["ok"] is False and taken["error"] == "invalid_submission"
        assert taken["errors"] == {"service": "That name is taken"}
        still = (await get(f"{base}/_emulator/modals/U0ALICE"))["views"]
        assert [v["id"] for v in still] == [view["id"]]

        done = await post(
            submit,
            {"user": "U0ALICE", "values": {"service": {"name": "todo-api"}, "notes": {}}},
        )
        assert done["ok"] is True and done["closed"] is True
        assert (await get(f"{base}/_emulator/modals/U0ALICE"))["views"] == []
        body = seen[-1]
        assert body["type"] == "view_submission"
        assert body["user"]["id"] == "U0ALICE"
        assert body["view"]["id"] == view["id"]
        assert body["view"]["state"]["values"] == {
            "service": {"name": {"type": "plain_text_input", "value": "todo-api"}},
            "notes": {"text": {"type": "plain_text_input", "value": None}},
        }
        assert body["response_urls"] == [] and body["trigger_id"]


async def test_views_update_replaces_the_view_and_checks_its_hash():
    seen: list[dict] = []
    async with connected("socket", seen) as emulator:
        view = await open_form(emulator)
        slack = AsyncWebClient(token=TOKENS["bot"], base_url=f"{emulator.base_url}/api/")
        new = {**FORM, "title": {"type": "plain_text", "text": "Almost there"}}
        updated = await slack.views_update(view_id=view["id"], hash=view["hash"], view=new)
        assert updated["view"]["id"] == view["id"]
        assert updated["view"]["hash"] != view["hash"]
        [stored] = (await get(f"{emulator.base_url}/_emulator/modals/U0ALICE"))["views"]
        assert stored["title"]["text"] == "Almost there"
        with pytest.raises(SlackApiError) as err:  # the hash it was read with is stale now
            await slack.views_update(view_id=view["id"], hash=view["hash"], view=FORM)
        assert err.value.response["error"] == "hash_conflict"
        with pytest.raises(SlackApiError) as err:
            await slack.views_update(view_id="V0NOPE", view=FORM)
        assert err.value.response["error"] == "not_found"
        with pytest.raises(SlackApiError) as err:
            bad = {**FORM, "submit": {"type": "plain_text", "text": "s" * 25}}
            await slack.views_update(view_id=view["id"], view=bad)
        assert err.value.response["errors"] == [
            "must be less than 25 characters [json-pointer:/view/submit/text]"
        ]
        closed = await post(
            f"{emulator.base_url}/_emulator/views/{view['id']}/close", {"user": "U0ALICE"}
        )
        assert closed["ok"]
        assert (await get(f"{emulator.base_url}/_emulator/modals/U0ALICE"))["views"] == []


async def test_a_click_in_the_app_home_reaches_the_app_with_a_view_container():
    seen: list[dict] = []
    async with connected("socket", seen) as emulator:
        base = emulator.base_url
        assert (await post(f"{base}/_emulator/home_opened", {"user": "U0BOB"}))["ok"]

        async def home():
            return (await get(f"{base}/_emulator/home/U0BOB"))["view"]

        view = await eventually(home, what="the published home")
        assert view["type"] == "home" and view["id"].startswith("V")
        clicked = await post(
            f"{base}/_emulator/actions",
            {"user": "U0BOB", "view_id": view["id"], "action_id": "approve"},
        )
        assert clicked["ok"]
        [body] = await eventually(lambda: seen, what="the click")
        assert body["container"] == {"type": "view", "view_id": view["id"]}
        assert body["view"]["id"] == view["id"]
        assert body["actions"][0]["value"] == "todo-api/3"
        assert "channel" not in body and "message" not in body
        someone_else = await post(
            f"{base}/_emulator/actions",
            {"user": "U0ALICE", "view_id": view["id"], "action_id": "approve"},
        )
        assert someone_else["error"] == "not_found"


async def test_an_unacked_submission_keeps_the_modal_open():
    emulator = await EmulatorServer(EmulatorConfig(port=0, rate_limits=False)).start()
    try:
        trigger = emulator.app[API].new_trigger_id("U0CAROL")
        slack = AsyncWebClient(token=TOKENS["bot"], base_url=f"{emulator.base_url}/api/")
        opened = await slack.views_open(trigger_id=trigger, view=FORM)
        view_id = opened["view"]["id"]
        answer = await post(
            f"{emulator.base_url}/_emulator/views/{view_id}/submit",
            {"user": "U0CAROL", "values": {"service": {"name": "todo-api"}}},
        )
        assert answer["ok"] is False and answer["error"] == "not_acked"
        [still] = (await get(f"{emulator.base_url}/_emulator/modals/U0CAROL"))["views"]
        assert still["id"] == view_id
        pushed = await slack.views_push(
            trigger_id=emulator.app[API].new_trigger_id("U0CAROL"), view=FORM
        )
        assert pushed["view"]["previous_view_id"] == view_id
        assert pushed["view"]["root_view_id"] == view_id
        stack = (await get(f"{emulator.base_url}/_emulator/modals/U0CAROL"))["views"]
        assert [v["id"] for v in stack] == [view_id, pushed["view"]["id"]]
    finally:
        await emulator.stop()
