"""The emulator's tier limits beyond chat.postMessage, as slack_sdk's own client meets them.

Slack answers a method called over its tier with 429 and Retry-After: `chat.update` and
reactions on tier 3 (50 a minute, with a short burst), `views.publish` on tier 4 counted
per user. A bot tested against a looser emulator would meet its first 429 in production.
"""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator.server import EmulatorConfig, EmulatorServer
from slack_emulator.workspace import DEFAULT_SEED

BOT_TOKEN = DEFAULT_SEED["tokens"]["bot"]
# Tier 3 allows a burst of a third of a minute's 50 calls, tier 4 a third of its 100;
# tokens trickle back during the loop, so one more may pass on a slow machine.
TIER_3_BURST = range(16, 19)
TIER_4_BURST = range(33, 37)


@pytest.fixture()
async def slack():
    """A client that sees each 429 itself (no retry handler), on an emulator with limits."""
    server = await EmulatorServer(EmulatorConfig(port=0, rate_limits=True)).start()
    client = AsyncWebClient(token=BOT_TOKEN, base_url=f"{server.base_url}/api/")
    client.retry_handlers = []
    yield client
    await server.stop()


async def calls_until_429(call, most: int) -> tuple[int, int]:
    """How many calls `call(n)` passed before the first 429, and its Retry-After."""
    for n in range(most):
        try:
            await call(n)
        except SlackApiError as err:
            assert err.response.status_code == 429, err.response
            assert err.response["error"] == "ratelimited"
            return n, int(err.response.headers["Retry-After"])
    raise AssertionError(f"{most} calls passed without a 429")


async def test_chat_update_is_tier_3_and_does_not_spend_the_posting_budget(slack):
    posted = await slack.chat_postMessage(channel="C0GENERAL", text="card v0")

    async def edit(n: int):
        await slack.chat_update(channel="C0GENERAL", ts=posted["ts"], text=f"card v{n + 1}")

    passed, retry_after = await calls_until_429(edit, 40)
    assert passed in TIER_3_BURST, passed
    assert 1 <= retry_after <= 2  # 50 a minute: the next call is free within 1.2 s
    # Posting has a budget of its own: a burst of edits does not hold up a reply.
    assert (await slack.chat_postMessage(channel="C0GENERAL", text="a reply"))["ok"]
    await asyncio.sleep(retry_after)  # as Slack asks
    assert (await slack.chat_update(channel="C0GENERAL", ts=posted["ts"], text="last"))["ok"]


async def test_reactions_are_tier_3(slack):
    posted = await slack.chat_postMessage(channel="C0DEPLOYS", text="build a todo api")

    async def react(n: int):
        await slack.reactions_add(channel="C0DEPLOYS", timestamp=posted["ts"], name=f"r{n}")

    passed, retry_after = await calls_until_429(react, 40)
    assert passed in TIER_3_BURST, passed
    assert 1 <= retry_after <= 2
    # Refused calls did nothing: exactly the reactions that passed are on the message.
    history = await slack.conversations_history(channel="C0DEPLOYS")
    (message,) = [m for m in history["messages"] if m["ts"] == posted["ts"]]
    assert [r["name"] for r in message["reactions"]] == [f"r{n}" for n in range(passed)]


async def test_views_publish_is_tier_4_counted_per_user(slack):
    def home(n: int) -> dict:
        text = {"type": "plain_text", "text": f"home {n}"}
        return {"type": "home", "blocks": [{"type": "header", "text": text}]}

    async def publish_for_alice(n: int):
        await slack.views_publish(user_id="U0ALICE", view=home(n))

    passed, retry_after = await calls_until_429(publish_for_alice, 60)
    assert passed in TIER_4_BURST, passed
    assert retry_after == 1  # 100 a minute: the next call is free within 0.6 s
    # Another person's home has a budget of its own.
    for n in range(5):
        assert (await slack.views_publish(user_id="U0BOB", view=home(n)))["ok"]
