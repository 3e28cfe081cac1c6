"""The Slack bot against the emulator, with the real Temporal dev server and worker.

Stages are scripted stand-ins here (fast, and failures on demand); the status card is
posted by the real `notify` activity. The full story with real Docker stages is in
test_bot_end_to_end.py.
"""

from __future__ import annotations

import asyncio
import random
import string
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from pydantic import SecretStr
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient
from temporalio.worker import Worker

from activities.slack_notify import SlackNotifier
from bot.app import ENGINE_DOWN, TemporalLink, build_app
from slack_emulator.server import EmulatorConfig, EmulatorServer
from slack_emulator.workspace import DEFAULT_SEED
from tests.fake_stages import Script
from tests.openai_server import OpenAIServer
from tests.test_openai_parser import DRAFT
from tests.waiting import PATIENCE, eventually
from workflows.delivery import DeliveryWorkflow
from workflows.service import ServiceWorkflow

TOKENS = DEFAULT_SEED["tokens"]


class Chat:
    """A person's view of the emulator: post, click, read the thread."""

    def __init__(self, emulator: EmulatorServer):
        self.base = emulator.base_url
        self.web = httpx.AsyncClient(timeout=10)

    async def say(
        self, user: str, text: str, thread_ts: str | None = None, channel: str = "C0GENERAL"
    ) -> str:
        body = {"user": user, "channel": channel, "text": text, "thread_ts": thread_ts}
        response = (await self.web.post(f"{self.base}/_emulator/messages", json=body)).json()
        assert response["ok"], response
        return response["ts"]

    async def messages(self, channel: str = "C0GENERAL") -> list[dict]:
        """The channel's top-level messages, each with its replies."""
        url = f"{self.base}/_emulator/channels/{channel}/messages"
        return (await self.web.get(url)).json().get("messages", [])

    async def thread(self, ts: str, channel: str = "C0GENERAL") -> list[dict]:
        parent = next(m for m in await self.messages(channel) if m["ts"] == ts)
        return parent["replies"]

    async def wait_for(self, ts: str, predicate, timeout: float = PATIENCE, channel="C0GENERAL"):
        """The newest reply in the thread that `predicate` accepts, once there is one."""
        seen: list[str] = []

        async def newest_match():
            replies = await self.thread(ts, channel)
            seen[:] = [r["text"] for r in replies]
            found = [r for r in replies if predicate(r)]
            return found[-1] if found else None

        try:
            return await eventually(newest_match, timeout=timeout, interval=0.2)
        except AssertionError:
            raise AssertionError(f"not seen in {timeout:.0f}s; thread has: {seen}") from None

    async def wait_for_ephemerals(self, user: str) -> list[str]:
        return await eventually(lambda: self.ephemeral(user), what=f"an ephemeral to {user}")

    async def card(self, ts: str, text: str, timeout: float = PATIENCE) -> dict:
        """The status card, once its fallback text says `text`."""
        return await self.wait_for(
            ts,
            lambda r: r.get("blocks") and r["blocks"][0]["type"] == "header" and text in r["text"],
            timeout,
        )

    async def click(self, user: str, message_ts: str, action_id: str) -> dict:
        body = {
            "user": user,
            "channel": "C0GENERAL",
            "message_ts": message_ts,
            "action_id": action_id,
        }
        return (await self.web.post(f"{self.base}/_emulator/actions", json=body)).json()

    async def command(self, user: str, text: str, channel: str = "C0GENERAL") -> None:
        """`/shipmate TEXT` typed by `user`."""
        body = {"user": user, "channel": channel, "command": "/shipmate", "text": text}
        response = (await self.web.post(f"{self.base}/_emulator/commands", json=body)).json()
        assert response["ok"], response

    async def top_level(self, text: str, channel: str = "C0GENERAL") -> dict:
        """The channel message saying `text`, once there is one."""

        async def found():
            return next((m for m in await self.messages(channel) if m["text"] == text), None)

        return await eventually(found, what=f"a message saying {text!r}")

    async def deliveries(self, event_type: str) -> list[dict]:
        """What the emulator delivered to the bot, with acks and attempts."""
        data = (await self.web.get(f"{self.base}/_emulator/deliveries")).json()
        return [d for d in data["deliveries"] if d["event_type"] == event_type]

    async def ephemeral(self, user: str) -> list[str]:
        data = (await self.web.get(f"{self.base}/_emulator/ephemeral/{user}")).json()
        return [m["text"] for m in data["messages"]]


def letters() -> str:
    """A name part that pluralises plainly (no s, x, y or h at the end)."""
    return "".join(random.choices(string.ascii_lowercase, k=6)) + "n"


@pytest.fixture()
async def emulator():
    server = await EmulatorServer(EmulatorConfig(port=0)).start()
    yield server
    await server.stop()


@pytest.fixture()
def slack_settings(settings, emulator):
    return settings.model_copy(
        update={
            "task_queue": f"bot-{uuid.uuid4().hex[:6]}",
            "slack_bot_token": SecretStr(TOKENS["bot"]),
            "slack_app_token": SecretStr(TOKENS["app"]),
            "slack_api_url": f"{emulator.base_url}/api/",
            "heartbeat_seconds": 5,
        }
    )


@pytest.fixture()
async def scripted_worker(client, slack_settings):
    script = Script()
    with ThreadPoolExecutor(max_workers=4) as executor:
        activities = [a for a in script.activities() if a.__name__ != "notify"]
        worker = Worker(
            client,
            task_queue=slack_settings.task_queue,
            workflows=[ServiceWorkflow, DeliveryWorkflow],
            activities=[*activities, SlackNotifier(slack_settings).notify],
            activity_executor=executor,
        )
        async with worker:
            yield script


async def start_bot(settings, emulator) -> AsyncSocketModeHandler:
    handler = AsyncSocketModeHandler(
        build_app(settings, TemporalLink(settings)),
        TOKENS["app"],
        web_client=AsyncWebClient(base_url=f"{emulator.base_url}/api/"),
    )
    await handler.connect_async()
    await eventually(lambda: emulator.events.sockets, interval=0.05, what="the bot's socket")
    return handler


@pytest.fixture()
async def bot(slack_settings, emulator, scripted_worker):
    handler = await start_bot(slack_settings, emulator)
    yield handler
    await handler.close_async()


@pytest.fixture()
def chat(emulator) -> Chat:
    return Chat(emulator)


def actions(card: dict) -> list[str]:
    return [e["action_id"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_mention_to_deployed_url_with_an_approver_click(chat, bot, emulator):
    name = f"kanban{letters()}"
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name} api")
    started = await chat.wait_for(ts, lambda r: r["text"].startswith("On it"))
    assert f"delivery `delivery/{name}-api/1`" in started["text"]
    card = await chat.card(ts, "waiting for approval")
    assert actions(card) == ["approve", "reject", "cancel"]
    await chat.wait_for(
        ts, lambda r: "<@U0BOB>" in r["text"] and "ready for *staging*" in r["text"]
    )

    result = await chat.click("U0CAROL", card["ts"], "approve")
    assert result["ok"]
    assert await chat.wait_for_ephemerals("U0CAROL") == [
        ":no_entry: <@U0CAROL> is not allowed to approve staging deploys"
    ]
    assert actions(await chat.card(ts, "waiting for approval")) == ["approve", "reject", "cancel"]

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
    await chat.say("U0BOB", "approve", thread_ts=ts)
    await chat.wait_for(ts, lambda r: r["text"] == "<@U0BOB> approved staging")
    await chat.card(ts, "delivered")

    await chat.say("U0ALICE", "also add a memo field to entries", thread_ts=ts)
    change = await chat.wait_for(ts, lambda r: r["text"].startswith("Next version"))
    assert "`+ Entry.memo (str)`" in change["text"]
    assert f"delivery/{name}-api/2" in change["text"]
    await chat.card(ts, "v2: :raised_hand: waiting for approval")


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
    assert f"`delivery/{name}-api/1` v1 succeeded by <@U0ALICE>" in history
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
    assert f"*{name}-api v1* → staging" in str(view["blocks"])


async def test_acks_stay_prompt_while_a_slow_understanding_is_in_flight(
    chat, slack_settings, emulator, scripted_worker
):
    """Understanding runs off the event loop: while a 5 s OpenAI answer is in flight,
    every envelope is acked at once, nothing is redelivered, each request answered once."""
    names = [f"kanban{letters()}" for _ in range(2)]
    with OpenAIServer() as slow_openai:
        slow_openai.delay = 5
        slow_openai.answer = {
            **DRAFT,
            "spec": {**DRAFT["spec"], "name": f"{names[0]}-api", "environments": ["staging"]},
        }
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
            assert all(d["acked"] for d in mentions), mentions
            slowest = max(d["ack_latency_ms"] for d in mentions)
            assert slowest < 1000, f"an ack took {slowest:.0f} ms during understanding"

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
