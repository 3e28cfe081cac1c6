"""Every Slack message delivered exactly once, under Slack's limits and through restarts.

Through the emulator (its rate limits on, as Slack's) with the real bot, the real
SlackOutbox workflow and its activity on a real worker; stages are scripted.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
from pydantic import SecretStr
from temporalio.testing import ActivityEnvironment

from activities.outbox_sender import SlackSender
from activities.outbox_stash import BacklogStash
from shipmate.payload_codec import new_key
from testkit.chat import Chat, letters, start_bot
from testkit.fake_stages import Script, worker_with_slack
from testkit.outbox import queue_in_outbox
from testkit.waiting import eventually
from workflows.outbox_messages import Backlog, OutboxState, OutgoingMessage, SlackCall
from workflows.outbox_workflow import SlackOutbox


async def storm(emulator, seconds: float) -> None:
    """Every Web API call answers 429 for `seconds`, as Slack does when pushed hard."""
    async with httpx.AsyncClient() as web:
        response = await web.post(
            f"{emulator.base_url}/_emulator/ratelimits", json={"storm_seconds": seconds}
        )
    assert response.json()["ok"]


async def bot_messages(chat: Chat) -> list[dict]:
    return await chat.from_shipmate()


async def nothing_doubled(chat: Chat) -> None:
    keys = Counter(
        m["metadata"]["event_payload"]["key"] for m in await bot_messages(chat) if m.get("metadata")
    )
    assert keys and max(keys.values()) == 1, keys.most_common(3)
    texts = Counter(m["text"] for m in await bot_messages(chat))
    assert max(texts.values()) == 1, texts.most_common(3)


async def test_a_429_storm_loses_nothing_and_doubles_nothing(chat, bot, emulator):
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a gale{letters()} api")
    await chat.wait_for(ts, lambda r: r["text"].startswith("On it"))
    await storm(emulator, 6)
    asked = await chat.say("U0CAROL", "<@U0SHIPMATE> what's running?")
    card = await chat.card(ts, "waiting for approval", timeout=60)
    await chat.wait_for(asked, lambda r: "No deliveries in flight" not in r["text"], timeout=60)
    await chat.click("U0BOB", card["ts"], "approve")
    await chat.wait_for(ts, lambda r: "is live in *staging*" in r["text"], timeout=60)
    await chat.card(ts, "delivered", timeout=60)
    stats = (await chat.web.get(f"{emulator.base_url}/_emulator/deliveries")).json()
    assert sum(stats["rate_limits"]["limited"].values()) > 0  # the storm did refuse calls
    await nothing_doubled(chat)


async def test_a_request_is_seen_at_once_with_a_reaction(chat, bot):
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a wren{letters()} api")

    async def reacted():
        request = next(m for m in await chat.messages() if m["ts"] == ts)
        return request.get("reactions")

    reactions = await eventually(reacted, what="a reaction on the request")
    assert reactions[0]["name"] == "eyes"


async def test_a_redelivered_event_is_answered_once(chat, bot, emulator):
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a echo{letters()} api")
    await chat.wait_for(ts, lambda r: r["text"].startswith("On it"))
    (mention,) = await chat.deliveries("app_mention")
    await chat.web.post(f"{emulator.base_url}/_emulator/deliveries/{mention['id']}/redeliver")
    await eventually(
        lambda: _attempts(chat, mention["id"], 2), what="the redelivery to reach the bot"
    )
    await chat.card(ts, "waiting for approval")
    await chat.caught_up()  # a second answer would have shown by now
    replies = [r["text"] for r in await chat.thread(ts)]
    assert len([t for t in replies if t.startswith("On it")]) == 1, replies
    await nothing_doubled(chat)


async def _attempts(chat: Chat, delivery_id: str, n: int):
    found = [d for d in await chat.deliveries("app_mention") if d["id"] == delivery_id]
    return found if found and len(found[0]["attempts"]) >= n else None


async def test_replies_in_the_outbox_survive_the_bot_stopping(
    chat, slack_settings, emulator, scripted_worker
):
    handler = await start_bot(slack_settings, emulator)
    await storm(emulator, 5)
    asked = await chat.say("U0CAROL", "<@U0SHIPMATE> what's running?")
    await eventually(lambda: chat.deliveries("app_mention"), what="the bot to get the question")
    await asyncio.sleep(0.5)
    await handler.close_async()  # the answer is in the outbox, not in this process
    answer = await chat.wait_for(asked, lambda r: r["user"] == "U0SHIPMATE", timeout=60)
    # what is in flight depends on the tests before; that the status answer came does not
    status_answers = ("Nothing is deployed", "No deliveries in flight.", "• ")
    assert answer["text"].startswith(status_answers), answer["text"]
    assert len(await chat.thread(asked)) == 1


async def test_a_worker_stopped_between_the_card_and_the_announcement_says_each_once(
    client, chat, slack_settings, emulator
):
    """A worker shut down with the gate's announcement unsent: the next one says it, once.
    (A worker killed mid-post is the retried post's test below, and test_worker_restart's.)"""
    script = Script()
    handler = await start_bot(slack_settings, emulator)

    def worker():
        return worker_with_slack(client, slack_settings, script, executor)

    with ThreadPoolExecutor(max_workers=4) as executor:
        try:
            first = worker()
            async with first:
                ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a kite{letters()} api")
                await chat.card(ts, "waiting for approval")
                await storm(emulator, 4)  # the gate's announcement waits behind the storm
            # The worker is gone with the announcement unsent; a new one takes over.
            async with worker():
                await chat.wait_for(ts, lambda r: "ready for *staging*" in r["text"], timeout=60)
                await asyncio.sleep(1.5)
        finally:
            await handler.close_async()
    await nothing_doubled(chat)


async def test_a_retried_post_finds_the_message_an_earlier_attempt_posted(
    slack_settings, emulator, chat
):
    """A worker that died after Slack took the post but before Temporal heard of it: the
    retry finds the message by its key and posts nothing twice."""
    sender = SlackSender(slack_settings)
    message = OutgoingMessage(key=f"test/{letters()}", channel="C0GENERAL", text="once only")
    call = SlackCall(message=message)
    # A sync activity runs where it is called: in a thread, as the worker would.
    first = await asyncio.to_thread(ActivityEnvironment().run, sender.send_to_slack, call)
    retry = ActivityEnvironment()
    retry.info = dataclasses.replace(retry.info, attempt=2)
    second = await asyncio.to_thread(retry.run, sender.send_to_slack, call)
    assert second.ts == first.ts
    assert [m["text"] for m in await chat.messages()].count("once only") == 1


async def test_twenty_questions_at_once_are_all_answered_once(chat, bot):
    asked = await asyncio.gather(
        *(chat.say(user, "<@U0SHIPMATE> what's deployed?") for user in ["U0CAROL"] * 20)
    )
    for ts in asked:
        await chat.wait_for(ts, lambda r: True, timeout=90)
    await chat.caught_up()  # a second answer to any of them would have shown by now
    assert [len(await chat.thread(ts)) for ts in asked] == [1] * 20


async def test_a_long_backlog_rolls_over_with_it_and_says_each_message_once(
    client, slack_settings, emulator, chat, scripted_worker
):
    """Under a 429 storm a backlog grows the outbox's history past its limit: it
    continues as new carrying what is still queued, and every message arrives once,
    even when each is asked for again after the roll-over."""
    handed_on, _ = await _backlog_through_a_storm(client, slack_settings, emulator, chat)
    assert handed_on is not None and handed_on.queue, "it rolled over only once idle"


async def test_a_backlog_too_big_to_carry_is_stashed_and_still_said_once(
    client, slack_settings, emulator, chat
):
    """Past `carry_bytes` the backlog waits in the artifact store and only its keys go
    through continue-as-new (Temporal refuses a payload over 2 MB); the next run takes it
    back, every message still arrives once, and the parts are deleted once taken back."""
    sealed = slack_settings.model_copy(
        update={"payload_keys": SecretStr(new_key("k1")), "task_queue": f"stash-{letters()}"}
    )
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with worker_with_slack(client, sealed, Script(), executor):
            handed_on, _ = await _backlog_through_a_storm(
                client, sealed, emulator, chat, carry_bytes=2_000
            )
    assert handed_on is not None and len(handed_on.stashed) > 1, "not stashed in parts"
    assert not handed_on.queue and not handed_on.edits  # only the parts' keys went along
    left = [key for key in handed_on.stashed if (sealed.state_dir / "artifacts" / key).exists()]
    assert not left, f"stashed parts never deleted: {left}"


def test_a_stashed_part_is_sealed_read_back_whole_and_then_deleted(slack_settings):
    """The stash activities themselves, on the worker's real store: no Slack text readable
    in the part, the same backlog back, and nothing left once it is forgotten."""
    sealed = slack_settings.model_copy(update={"payload_keys": SecretStr(new_key("k1"))})
    stash, tag = BacklogStash(sealed), letters()
    backlog = Backlog(
        outbox="slack-outbox/q/C0DEPLOYS",
        queue=[OutgoingMessage(key=f"k/{tag}", channel="C0DEPLOYS", text=f"{tag} secret plan")],
    )
    env = ActivityEnvironment()
    key = env.run(stash.stash_backlog, backlog)
    stored = (sealed.state_dir / "artifacts" / key).read_bytes()
    assert tag.encode() not in stored and b"secret plan" not in stored  # sealed
    assert env.run(stash.fetch_backlog, key) == backlog
    env.run(stash.forget_backlog, [key])
    assert not (sealed.state_dir / "artifacts" / key).exists()
    env.run(stash.forget_backlog, [key])  # forgetting twice (a retried call) is no error


async def _backlog_through_a_storm(client, settings, emulator, chat, **state):
    """60 messages queued during a 429 storm in an outbox with a history limit of 120,
    each asked for again once it has continued as new; all must arrive exactly once.
    Returns the state the first run handed on, and the messages' tag."""
    channel, tag = "C0DEPLOYS", letters()
    messages = [
        OutgoingMessage(
            key=f"rollover/{tag}/{n}", channel=channel, text=f"{tag} {n}", private_to="U0CAROL"
        )
        for n in range(60)
    ]
    await storm(emulator, 3)
    outbox = OutboxState(channel=channel, history_limit=120, **state)
    handle = await queue_in_outbox(client, settings.task_queue, outbox, messages)

    async def rolled_over():
        current = (await client.get_workflow_handle(handle.id).describe()).run_id
        return current if current != handle.result_run_id else None

    await eventually(rolled_over, what="the outbox to continue as new")
    for message in messages:  # a redelivered event, a retried activity
        await client.get_workflow_handle(handle.id).signal(SlackOutbox.enqueue, message)

    async def all_arrived():
        seen = [t for t in await chat.ephemeral("U0CAROL") if t.startswith(tag)]
        return seen if len(seen) >= len(messages) else None

    await eventually(all_arrived, timeout=120, what="every message to arrive")
    await eventually(
        lambda: _settled(client, handle.id), timeout=60, what="the outbox to have nothing left"
    )
    seen = Counter(t for t in await chat.ephemeral("U0CAROL") if t.startswith(tag))
    assert seen == Counter(m.text for m in messages)  # each once, none lost

    first_run = client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
    handed_on = None
    async for event in first_run.fetch_history_events():
        if event.HasField("workflow_execution_continued_as_new_event_attributes"):
            payloads = event.workflow_execution_continued_as_new_event_attributes.input.payloads
            (handed_on,) = await client.data_converter.decode(payloads, [OutboxState])
    return handed_on, tag


async def _settled(client, workflow_id: str) -> bool:
    return await client.get_workflow_handle(workflow_id).query(SlackOutbox.waiting) == 0
