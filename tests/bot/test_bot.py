"""The Slack bot against the emulator, with the real Temporal dev server and worker.

Stages are scripted stand-ins here (fast, and failures on demand); the status card is
posted by the real `notify` activity. The full story with real Docker stages is in
test_bot_end_to_end.py.
"""

from __future__ import annotations

import asyncio
import json
import re

from pydantic import SecretStr

from bot.app import ENGINE_DOWN
from testkit.chat import actions, letters, start_bot
from testkit.openai_server import OpenAIServer
from testkit.waiting import eventually
from tests.understanding.test_openai_parser import DRAFT


async def test_mention_to_deployed_url_with_an_approver_click(chat, bot, emulator):
    name = f"kanban{letters()}"
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name} api")
    started = await chat.wait_for(ts, lambda r: r["text"].startswith("On it"))
    assert re.search(rf"delivery `delivery/{name}-api/1-[0-9a-f]{{6}}`", started["text"])
    card = await chat.card(ts, "waiting for approval")
    assert actions(card) == ["approve", "approve_with_comment", "reject", "cancel"]
    await chat.wait_for(
        ts, lambda r: "<@U0BOB>" in r["text"] and "ready for *staging*" in r["text"]
    )

    result = await chat.click("U0CAROL", card["ts"], "approve")
    assert result["ok"]
    assert await chat.wait_for_ephemerals("U0CAROL") == [
        ":no_entry: <@U0CAROL> is not allowed to approve staging deploys"
    ]
    assert actions(await chat.card(ts, "waiting for approval")) == [
        "approve",
        "approve_with_comment",
        "reject",
        "cancel",
    ]

    await chat.click("U0BOB", card["ts"], "approve")
    done = await chat.card(ts, "delivered")
    assert actions(done) == []
    assert "approved by <@U0BOB>" in str(done["blocks"])
    live = await chat.wait_for(ts, lambda r: "is live in *staging*" in r["text"])
    assert f"http://{name}-api.staging.local" in live["text"]

    deliveries = (await chat.web.get(f"{emulator.base_url}/_emulator/deliveries")).json()
    assert all(d["acked"] for d in deliveries["deliveries"])
    assert deliveries["stats"]["p99_ms"] < 3000


async def test_a_clarifying_question_is_answered_in_the_thread(chat, bot):
    ts = await chat.say("U0ALICE", "<@U0SHIPMATE> build me an api please")
    asked = await chat.wait_for(ts, lambda r: r["text"].startswith("Before I start"))
    assert "What should the service manage?" in asked["text"]
    name = f"parcel{letters()}"
    await chat.say("U0ALICE", f"{name}s have weight (float) and destination", thread_ts=ts)
    started = await chat.wait_for(ts, lambda r: r["text"].startswith("On it"))
    assert f"*{name}s-api*" in started["text"]
    await chat.card(ts, "waiting for approval")


async def test_a_stack_question_has_a_button_and_the_click_starts_the_delivery(chat, bot):
    name = f"tray{letters()}"
    ts = await chat.say(
        "U0ALICE",
        f"<@U0SHIPMATE> Build a secure REST API for {name} management using NestJS and "
        "PostgreSQL, plus a pony",
    )
    asked = await chat.wait_for(ts, lambda r: r["text"].startswith("_I didn't use: pony._"))
    assert "NestJS isn't built yet. Shall I build it with FastAPI?" in asked["text"]
    assert actions(asked) == ["plan_answer_0"]

    await chat.click("U0ALICE", asked["ts"], "plan_answer_0")
    await chat.wait_for(ts, lambda r: r["text"] == "<@U0ALICE> answered: Yes, FastAPI")
    # 'a pony' was never read, so the plan waits to be seen before anything starts
    shown = await chat.wait_for(ts, lambda r: "*Build it* starts exactly this" in r["text"])
    assert shown["text"].startswith("_I didn't use: pony._")
    assert actions(shown) == ["plan_answer_0", "plan_edit"]
    await chat.click("U0ALICE", shown["ts"], "plan_answer_0")
    started = await chat.wait_for(ts, lambda r: r["text"].startswith("On it"))
    assert (
        f"*{name}s-api* · REST · PostgreSQL · JWT sign-in · local: staging\n"
        f"• {name.capitalize()}: name" in started["text"]
    )
    answered = next(m for m in await chat.thread(ts) if m["ts"] == asked["ts"])
    assert actions(answered) == []  # nobody answers twice
    await chat.card(ts, "waiting for approval")


async def test_a_slash_command_starts_a_thread_that_carries_on_like_a_mention(chat, bot):
    await chat.command("U0ALICE", "build me an api please")
    request = await chat.top_level("<@U0ALICE> asked: build me an api please")
    asked = await chat.wait_for(request["ts"], lambda r: r["text"].startswith("Before I start"))
    assert "What should the service manage?" in asked["text"]
    name = f"ferry{letters()}"
    await chat.say("U0ALICE", f"{name}s have port and capacity int", thread_ts=request["ts"])
    started = await chat.wait_for(request["ts"], lambda r: r["text"].startswith("On it"))
    assert f"*{name}s-api*" in started["text"]
    await chat.card(request["ts"], "waiting for approval")


async def test_a_slash_command_where_the_bot_is_not_says_what_to_do(chat, bot):
    await chat.command("U0ALICE", "what's running?", channel="C0RANDOM")
    assert await chat.wait_for_ephemerals("U0ALICE") == [
        "I'm not in <#C0RANDOM>, so I can't start a thread there. Invite me with "
        "`/invite @shipmate`, or send me your request in a DM."
    ]


async def test_typed_commands_and_a_change_request_in_the_thread(chat, bot):
    name = f"ledger{letters()}"
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> {name} api: entries have amount (decimal)")
    await chat.card(ts, "waiting for approval")
    await chat.say("U0ALICE", "status", thread_ts=ts)
    await chat.wait_for(ts, lambda r: "is waiting for approval at *approve staging*" in r["text"])
    await chat.say("U0BOB", "<@U0SHIPMATE> approve staging", thread_ts=ts)
    await chat.wait_for(ts, lambda r: r["text"] == "<@U0BOB> approved staging")
    await chat.card(ts, "delivered")

    await chat.say("U0ALICE", "also add a memo field to entries", thread_ts=ts)
    change = await chat.wait_for(ts, lambda r: r["text"].startswith("Next version"))
    assert "`+ Entry.memo (str)`" in change["text"]
    assert f"delivery/{name}-api/2-" in change["text"]
    await chat.card(ts, "v2: waiting for approval")


async def test_two_bot_replicas_behave_like_one(chat, slack_settings, emulator, scripted_worker):
    replicas = [await start_bot(slack_settings, emulator)]
    replicas.append(await start_bot(slack_settings, emulator))
    try:
        await eventually(lambda: len(emulator.events.sockets) == 2, what="two connections")
        threads = []
        for word in ("pier", "quay", "dock"):
            name = f"{word}{letters()}"
            threads.append(await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name} api"))
        for ts in threads:
            card = await chat.card(ts, "waiting for approval")
            await chat.click("U0BOB", card["ts"], "approve")
            await chat.card(ts, "delivered")
            replies = [r["text"] for r in await chat.thread(ts)]
            assert len([t for t in replies if t.startswith("On it")]) == 1, replies
        deliveries = (await chat.web.get(f"{emulator.base_url}/_emulator/deliveries")).json()
        used = {a["connection"] for d in deliveries["deliveries"] for a in d["attempts"]}
        assert used == {0, 1}  # both replicas handled some of it
    finally:
        for replica in replicas:
            await replica.close_async()


async def test_a_click_still_works_after_the_bot_restarts(
    chat, slack_settings, emulator, scripted_worker
):
    handler = await start_bot(slack_settings, emulator)
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {'relay' + letters()} api")
    card = await chat.card(ts, "waiting for approval")
    await handler.close_async()
    await eventually(lambda: not emulator.events.sockets, interval=0.05, what="the socket closed")
    handler = await start_bot(slack_settings, emulator)  # a new process would know nothing more
    try:
        await chat.click("U0BOB", card["ts"], "approve")
        await chat.card(ts, "delivered")
    finally:
        await handler.close_async()


async def test_status_questions_are_answered_from_temporal(chat, bot):
    name = f"atlas{letters()}"
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build an {name} api")
    card = await chat.card(ts, "waiting for approval")
    await chat.click("U0BOB", card["ts"], "approve")
    await chat.card(ts, "delivered")

    async def ask(question: str) -> str:
        asked = await chat.say("U0CAROL", f"<@U0SHIPMATE> {question}")
        return (await chat.wait_for(asked, lambda r: True))["text"]

    deployed = await ask("what's deployed in staging?")
    assert f"*{name}-api* v1 in *staging*: http://{name}-api.staging.local" in deployed
    assert "(approved by <@U0BOB>)" in deployed
    who = await ask(f"who approved the last staging deploy of {name}-api?")
    assert f"The last staging deploy of *{name}-api* (v1" in who
    assert "approved by <@U0BOB>, requested by <@U0ALICE>" in who
    history = await ask(f"history of {name}-api")
    assert re.search(rf"`delivery/{name}-api/1-\w+` v1 succeeded by <@U0ALICE>", history)
    unknown = await ask("history of nosuch-api")
    assert "I don't know a service called `nosuch-api`" in unknown
    helped = await ask("help")
    assert "what's deployed in prod?" in helped


async def test_not_in_channel_gets_a_direct_message_with_what_to_do(chat, bot, emulator):
    await chat.say("U0ALICE", "<@U0SHIPMATE> what's running?", channel="C0RANDOM")

    dm = await eventually(lambda: chat.messages("D0ALICE"), what="a direct message")
    assert "I'm not in <#C0RANDOM>" in dm[0]["text"]
    assert "/invite @shipmate" in dm[0]["text"]


async def test_a_temporal_outage_gets_a_clear_answer_and_the_bot_keeps_running(
    chat, slack_settings, emulator
):
    down = slack_settings.model_copy(update={"temporal_address": "127.0.0.1:1"})
    handler = await start_bot(down, emulator)
    try:
        ts = await chat.say("U0ALICE", "<@U0SHIPMATE> build a todo api")
        reply = await chat.wait_for(ts, lambda r: True)
        assert reply["text"] == ENGINE_DOWN
        second = await chat.say("U0ALICE", "<@U0SHIPMATE> help")
        assert "I build and ship" in (await chat.wait_for(second, lambda r: True))["text"]
    finally:
        await handler.close_async()


async def test_app_home_lists_what_waits_on_the_approver(chat, bot, emulator):
    name = f"orbit{letters()}"
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build an {name} api")
    await chat.card(ts, "waiting for approval")
    await chat.web.post(f"{emulator.base_url}/_emulator/home_opened", json={"user": "U0BOB"})

    async def home_naming_the_service():
        view = (await chat.web.get(f"{emulator.base_url}/_emulator/home/U0BOB")).json()["view"]
        return view if view and name in str(view) else None

    view = await eventually(home_naming_the_service, what="bob's home tab")
    assert f"*{name}-api v1* → *staging* · requested by <@U0ALICE>" in str(view["blocks"])


async def test_acks_stay_prompt_while_a_slow_understanding_is_in_flight(
    chat, slack_settings, emulator, scripted_worker
):
    """Understanding runs off the event loop: while a 5 s OpenAI answer is in flight,
    every envelope is acked at once, nothing is redelivered, each request answered once."""
    names = [f"kanban{letters()}" for _ in range(2)]
    with OpenAIServer() as slow_openai:
        slow_openai.delay = 5

        def answer(request: dict) -> dict:
            """Each request's own service: two asking for one name would be a clash."""
            name = next(n for n in names if n in json.dumps(request))
            return {
                **DRAFT,
                "spec": {**DRAFT["spec"], "name": f"{name}-api", "environments": ["staging"]},
            }

        slow_openai.answer = answer
        settings = slack_settings.model_copy(
            update={
                "openai_api_key": SecretStr("sk-test"),
                "openai_base_url": slow_openai.base_url,
                "openai_timeout_seconds": 30,
            }
        )
        handler = await start_bot(settings, emulator)
        try:
            threads = []
            for name in names:
                threads.append(await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name} api"))
                await asyncio.sleep(0.5)  # the second comes while the first is understood
            mentions = await chat.deliveries("app_mention")
            assert len(slow_openai.requests) >= 1 and len(mentions) == 2
            # both acked while the first understanding still waits on its answer: an ack
            # never waits for understanding (its latency is benchmarks/run.py's figure)
            assert all(d["acked"] for d in mentions), mentions
            assert slow_openai.answered == 0

            for ts in threads:
                await chat.wait_for(ts, lambda r: r["text"].startswith("On it"), timeout=60)
            await asyncio.sleep(1)  # time for a redelivered event to show a second answer
            for ts in threads:
                answers = [r for r in await chat.thread(ts) if r["text"].startswith("On it")]
                assert len(answers) == 1, answers
            mentions = await chat.deliveries("app_mention")
            assert [len(d["attempts"]) for d in mentions] == [1, 1]
        finally:
            await handler.close_async()
