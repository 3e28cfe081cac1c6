"""Shipmate copes with what Slack does to old messages: a card deleted (or lost by a
forgetful local Slack) is posted again at its next change, saying so, with buttons that
work; an answer whose thread is gone is posted on its own. Nothing is said twice.

Through the emulator with the real sender, and for the card, the real bot, outbox and
delivery on a worker with scripted stages.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

from slack_sdk.web.async_client import AsyncWebClient
from temporalio.testing import ActivityEnvironment

from activities.outbox_sender import CARD_AGAIN, THREAD_GONE, SlackSender
from testkit.chat import TOKENS, Chat, actions, letters
from testkit.waiting import eventually
from workflows.outbox_messages import MessageKind, OutgoingMessage, SlackCall

CARD = [
    {"type": "header", "text": {"type": "plain_text", "text": "Card"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "waiting"}},
]


def web_api(emulator) -> AsyncWebClient:
    return AsyncWebClient(token=TOKENS["bot"], base_url=f"{emulator.base_url}/api/")


async def sent(sender: SlackSender, call: SlackCall, attempt: int = 1):
    """The activity as a worker runs it (a sync activity runs in a thread)."""
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(environment.info, attempt=attempt)
    return await asyncio.to_thread(environment.run, sender.send_to_slack, call)


async def test_an_edit_of_a_deleted_card_posts_it_again_once(slack_settings, emulator, chat):
    sender = SlackSender(slack_settings)
    card = OutgoingMessage(
        key=f"card/{letters()}", kind=MessageKind.card, channel="C0GENERAL", text="v1"
    )
    first = await sent(sender, SlackCall(message=card.model_copy(update={"blocks": CARD})))
    await web_api(emulator).chat_delete(channel="C0GENERAL", ts=first.ts)

    edit = SlackCall(
        message=card.model_copy(update={"text": "v2", "blocks": CARD}), edit_ts=first.ts
    )
    again = await sent(sender, edit)
    retried = await sent(sender, edit, attempt=2)  # the worker died before it reported
    assert again.ts != first.ts and retried.ts == again.ts
    (posted,) = [m for m in await chat.messages() if m["text"].endswith("v2")]
    assert posted["ts"] == again.ts and posted["text"].startswith(CARD_AGAIN)
    assert [b["type"] for b in posted["blocks"]] == ["header", "context", "section"]

    later = SlackCall(message=card.model_copy(update={"text": "v3"}), edit_ts=again.ts)
    assert (await sent(sender, later)).ts == again.ts  # later edits go to the new one
    assert [m["text"] for m in await chat.messages()] == ["v3"]


async def test_an_answer_whose_thread_is_gone_is_posted_on_its_own(slack_settings, emulator, chat):
    slack = web_api(emulator)
    root = await slack.chat_postMessage(channel="C0GENERAL", text="a thread soon gone")
    await slack.chat_delete(channel="C0GENERAL", ts=root["ts"])
    answer = OutgoingMessage(
        key=f"answer/{letters()}",
        channel="C0GENERAL",
        thread_ts=root["ts"],
        text="the answer",
        delivery_id="delivery/orders-api/2-abc",
    )
    sender = SlackSender(slack_settings)
    first = await sent(sender, SlackCall(message=answer))
    retried = await sent(sender, SlackCall(message=answer), attempt=2)
    assert retried.ts == first.ts
    (posted,) = await chat.messages()
    assert posted["ts"] == first.ts and "thread_ts" not in posted
    assert posted["text"].startswith(THREAD_GONE) and posted["text"].endswith("\nthe answer")
    assert (
        "/workflows/delivery%2Forders-api%2F2-abc|delivery `delivery/orders-api/2-abc`>"
        in (posted["text"])
    )


async def test_a_card_deleted_at_a_gate_comes_back_at_the_next_change_with_working_buttons(
    chat: Chat, bot, emulator
):
    ts = await chat.say(
        "U0ALICE", f"<@U0SHIPMATE> build a relic{letters()} api, deploy it to staging and prod"
    )
    card = await chat.card(ts, "waiting for approval")
    await web_api(emulator).chat_delete(channel="C0GENERAL", ts=card["ts"])

    # the next change: bob approves staging from his DM, the card being gone
    dm = await eventually(lambda: chat.messages("D0BOB"), what="bob's DM")
    await chat.click("U0BOB", dm[0]["ts"], "approve", channel="D0BOB")
    await chat.wait_for(ts, lambda r: "is live in *staging*" in r["text"])

    again = await chat.card(ts, "waiting for approval")
    assert again["ts"] != card["ts"] and CARD_AGAIN in again["text"]
    assert "approve" in actions(again)

    async def clicked():  # the delivery may hear of the new card a moment after it shows
        answer = await chat.click("U0BOB", again["ts"], "approve")
        await chat.caught_up()
        replies = await chat.thread(ts)
        return answer if any("approved prod" in r["text"] for r in replies) else None

    await eventually(clicked, what="the new card's Approve to count", timeout=60)
    await chat.wait_for(ts, lambda r: "is live in *prod*" in r["text"])
    await chat.card(ts, "delivered")
    cards = [
        m for m in await chat.thread(ts) if m.get("blocks") and m["blocks"][0]["type"] == "header"
    ]
    assert len(cards) == 1, [c["text"] for c in cards]  # one card: edited, not posted again
    await said_once(chat)


async def said_once(chat: Chat) -> None:
    """Every key posted once (a broadcast reply shows in the channel too: counted once)."""
    everything = [
        m
        for top in await chat.messages()
        for m in ([] if top.get("broadcast") else [top]) + top["replies"]
        if m.get("user") == "U0SHIPMATE"
    ]
    keys = Counter(m["metadata"]["event_payload"]["key"] for m in everything if m.get("metadata"))
    assert keys and max(keys.values()) == 1, keys.most_common(3)
