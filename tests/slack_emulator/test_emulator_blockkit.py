"""Block Kit limits: the emulator refuses what Slack refuses, with Slack's error and pointer."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator.server import API, EmulatorConfig, EmulatorServer
from slack_emulator.workspace import DEFAULT_SEED

BOT_TOKEN = DEFAULT_SEED["tokens"]["bot"]


@pytest.fixture()
async def emulator():
    server = await EmulatorServer(EmulatorConfig(port=0, rate_limits=False)).start()
    yield server
    await server.stop()


@pytest.fixture()
def slack(emulator) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=f"{emulator.base_url}/api/")


def section(text: str, **extra) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(text: str, action_id: str = "go", **extra) -> dict:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
        **extra,
    }


def actions(*elements: dict) -> dict:
    return {"type": "actions", "elements": list(elements)}


REFUSED = {
    "a 3,001-character section": (
        [section("x" * 3001)],
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
    ),
    "a 76-character button text": (
        [section("Ship it?"), actions(button("b" * 76))],
        "must be less than 76 characters [json-pointer:/blocks/1/elements/0/text/text]",
    ),
    "an unknown block type": (
        [section("hi"), {"type": "carousel"}],
        "unsupported type: carousel [json-pointer:/blocks/1/type]",
    ),
    "an input block in a message": (
        [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Name"},
                "element": {"type": "plain_text_input", "action_id": "name"},
            }
        ],
        "unsupported type: input [json-pointer:/blocks/0/type]",
    ),
    "a duplicate block_id": (
        [section("one", block_id="card"), section("two", block_id="card")],
        "duplicate block_id: card [json-pointer:/blocks/1/block_id]",
    ),
    "a mrkdwn header": (
        [{"type": "header", "text": {"type": "mrkdwn", "text": "*Title*"}}],
        "must be a valid enum value [json-pointer:/blocks/0/text/type]",
    ),
    "a 151-character header": (
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
    ),
    "an empty section text": (
        [section("")],
        "must be more than 0 characters [json-pointer:/blocks/0/text/text]",
    ),
    "eleven fields": (
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
        "no more than 10 items allowed [json-pointer:/blocks/0/fields]",
    ),
    "twenty-six buttons": (
        [actions(*[button("b", f"a{n}") for n in range(26)])],
        "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
    ),
    "a duplicate action_id in a block": (
        [actions(button("Approve", "go"), button("Reject", "go"))],
        "duplicate action_id: go [json-pointer:/blocks/0/elements/1/action_id]",
    ),
    "a button style Slack does not have": (
        [actions(button("Go", style="secondary"))],
        "must be a valid enum value [json-pointer:/blocks/0/elements/0/style]",
    ),
    "a 31-character confirm button": (
        [
            actions(
                button(
                    "Deploy",
                    confirm={
                        "title": {"type": "plain_text", "text": "Sure?"},
                        "text": {"type": "mrkdwn", "text": "It goes live."},
                        "confirm": {"type": "plain_text", "text": "c" * 31},
                        "deny": {"type": "plain_text", "text": "No"},
                    },
                )
            )
        ],
        "must be less than 31 characters [json-pointer:/blocks/0/elements/0/confirm/confirm/text]",
    ),
    "an empty context": (
        [{"type": "context", "elements": []}],
        "must provide at least 1 items [json-pointer:/blocks/0/elements]",
    ),
    "fifty-one blocks": (
        [{"type": "divider"}] * 51,
        "no more than 50 items allowed [json-pointer:/blocks]",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
async def test_a_message_slack_would_refuse_is_refused_and_not_posted(case, slack, emulator):
    blocks, expected = REFUSED[case]
    with pytest.raises(SlackApiError) as err:
        await slack.chat_postMessage(channel="C0GENERAL", text="fallback", blocks=blocks)
    response = err.value.response.data
    assert response["error"] == "invalid_blocks"
    assert response["errors"] == [expected]
    assert response["response_metadata"]["messages"] == [f"[ERROR] {expected}"]
    history = await slack.conversations_history(channel="C0GENERAL")
    assert history["messages"] == []


async def test_limits_are_inclusive_and_a_status_card_passes(slack):
    at_the_limit = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        section("x" * 3000),
        actions(button("b" * 75, value="v" * 2000)),
    ]
    assert (await slack.chat_postMessage(channel="C0GENERAL", text="t", blocks=at_the_limit))["ok"]
    confirm = {
        "title": {"type": "plain_text", "text": "Deploy to production?"},
        "text": {"type": "mrkdwn", "text": "todo-api v3 goes to production."},
        "confirm": {"type": "plain_text", "text": "Approve"},
        "deny": {"type": "plain_text", "text": "Not yet"},
    }
    card = [
        {"type": "header", "text": {"type": "plain_text", "text": "todo-api v3"}},
        section("*:raised_hand: waiting for approval* · requested by <@U0ALICE>"),
        section(":link: *staging*: <https://todo-api.staging.example.com>"),
        section("\n".join(f":white_check_mark: stage {n}: succeeded (12s)" for n in range(8))),
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "*production* gate: 0 of 1 · 1 more needed from <!subteam^S0APPROVERS>"
                    " · expires <!date^1767225600^{date_short_pretty} at {time}|2026-01-01 00:00>",
                }
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "<https://t/w|workflow x>"}]},
        {"type": "divider"},
        {
            "type": "actions",
            "block_id": "delivery_actions",
            "elements": [
                button(
                    "Approve production",
                    "approve",
                    style="primary",
                    value='{"d":"x"}',
                    confirm=confirm,
                ),
                button("Reject", "reject", style="danger", value='{"d":"x"}', confirm=confirm),
                button("Cancel", "cancel", value='{"d":"x"}'),
            ],
        },
    ]
    posted = await slack.chat_postMessage(channel="C0GENERAL", text="todo-api v3", blocks=card)
    assert posted["message"]["blocks"] == card
    updated = await slack.chat_update(channel="C0GENERAL", ts=posted["ts"], text="t", blocks=card)
    assert updated["ok"]


async def test_update_ephemeral_and_response_url_are_checked_too(slack, emulator):
    posted = await slack.chat_postMessage(
        channel="C0GENERAL", text="before", blocks=[section("ok")]
    )
    too_long = [section("x" * 3001)]
    with pytest.raises(SlackApiError) as err:
        await slack.chat_update(channel="C0GENERAL", ts=posted["ts"], text="after", blocks=too_long)
    assert err.value.response["error"] == "invalid_blocks"
    [message] = (await slack.conversations_history(channel="C0GENERAL"))["messages"]
    assert message["text"] == "before"
    with pytest.raises(SlackApiError) as err:
        await slack.chat_postEphemeral(channel="C0GENERAL", user="U0BOB", text="x", blocks=too_long)
    assert err.value.response["error"] == "invalid_blocks"

    async with httpx.AsyncClient() as web:
        await web.post(
            f"{emulator.base_url}/_emulator/commands",
            json={"user": "U0BOB", "channel": "C0GENERAL", "command": "/shipmate", "text": "x"},
        )
        response_url = emulator.events.deliveries[-1].payload["response_url"]
        refused = await web.post(response_url, json={"text": "x", "blocks": too_long})
        assert refused.status_code == 400
        assert refused.json()["errors"] == [
            "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
        ]
        seen = (await web.get(f"{emulator.base_url}/_emulator/ephemeral/U0BOB")).json()
    assert seen["messages"] == []


async def test_views_publish_refuses_a_too_long_header_and_keeps_no_home(slack, emulator):
    view = {
        "type": "home",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
    }
    with pytest.raises(SlackApiError) as err:
        await slack.views_publish(user_id="U0ALICE", view=view)
    expected = "must be less than 151 characters [json-pointer:/view/blocks/0/text/text]"
    assert err.value.response["error"] == "invalid_arguments"
    assert err.value.response["errors"] == [expected]
    assert err.value.response["response_metadata"]["messages"] == [f"[ERROR] {expected}"]
    async with httpx.AsyncClient() as web:
        home = (await web.get(f"{emulator.base_url}/_emulator/home/U0ALICE")).json()
    assert home["view"] is None
    many = {"type": "home", "blocks": [{"type": "divider"}] * 100}
    assert (await slack.views_publish(user_id="U0ALICE", view=many))["ok"]
    with pytest.raises(SlackApiError) as err:
        await slack.views_publish(user_id="U0ALICE", view={**many, "blocks": many["blocks"] * 2})
    assert err.value.response["errors"] == [
        "no more than 100 items allowed [json-pointer:/view/blocks]"
    ]


def modal(title: str = "New service", **extra) -> dict:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [section("Name your service")],
        **extra,
    }


async def test_views_open_takes_a_fresh_trigger_once_and_checks_the_modal(slack, emulator):
    trigger = emulator.app[API].new_trigger_id("U0ALICE")
    with pytest.raises(SlackApiError) as err:
        await slack.views_open(trigger_id=trigger, view=modal("t" * 25))
    assert err.value.response["errors"] == [
        "must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    with_input = modal(
        blocks=[
            {
                "type": "input",
                "block_id": "service",
                "label": {"type": "plain_text", "text": "Name"},
                "element": {"type": "plain_text_input", "action_id": "name"},
            }
        ]
    )
    with pytest.raises(SlackApiError) as err:  # an input needs a submit button
        await slack.views_open(trigger_id=trigger, view=with_input)
    assert err.value.response["errors"] == ["must provide an object [json-pointer:/view/submit]"]

    opened = await slack.views_open(trigger_id=trigger, view=modal())
    assert opened["view"]["id"].startswith("V")
    assert opened["view"]["root_view_id"] == opened["view"]["id"]
    with pytest.raises(SlackApiError) as err:
        await slack.views_open(trigger_id=trigger, view=modal())
    assert err.value.response["error"] == "exchanged_trigger_id"
    with pytest.raises(SlackApiError) as err:
        await slack.views_open(trigger_id="123.made-up", view=modal())
    assert err.value.response["error"] == "invalid_trigger_id"

    emulator.app[API].views.trigger_ttl = 0.2
    stale = emulator.app[API].new_trigger_id("U0ALICE")
    await asyncio.sleep(0.3)
    with pytest.raises(SlackApiError) as err:
        await slack.views_open(trigger_id=stale, view=modal())
    assert err.value.response["error"] == "expired_trigger_id"
    async with httpx.AsyncClient() as web:
        stack = (await web.get(f"{emulator.base_url}/_emulator/modals/U0ALICE")).json()["views"]
    assert [v["id"] for v in stack] == [opened["view"]["id"]]
