"""The Roll back button under "v2 is live in staging", as the people in the thread use it.

Through the emulator with the real bot, Temporal and a worker with scripted stages
(roles as under `shipmate dev`: alice builds, bob approves, carol only watches); the
service's own rules for a click on an old message are checked on the workflows alone.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from shipmate import delivery_client
from testkit.chat import Chat, actions, letters
from testkit.waiting import eventually
from tests.workflows.test_undo_deliveries import ROLL_BACK, deliver, service_state, undo
from tests.workflows.test_workflows import unique
from workflows.service_workflow import ServiceWorkflow, service_workflow_id


def live_in_staging(version: int):
    return lambda r: f"v{version} is live in *staging*" in r["text"]


async def two_versions(chat: Chat) -> tuple[str, str, dict, dict]:
    """alice's service, v1 then v2 approved by bob: its thread, name and live messages."""
    name = f"ledger{letters()}"
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> {name} api: entries have amount (decimal)")
    card = await chat.card(ts, "v1: waiting for approval")
    await chat.click("U0BOB", card["ts"], "approve")
    first = await chat.wait_for(ts, live_in_staging(1))
    await chat.say("U0ALICE", "also add a memo field to entries", thread_ts=ts)
    card = await chat.card(ts, "v2: waiting for approval")
    await chat.click("U0BOB", card["ts"], "approve")
    second = await chat.wait_for(ts, live_in_staging(2))
    return ts, f"{name}-api", first, second


def rollbacks(thread: list[dict]) -> list[dict]:
    return [r for r in thread if r.get("blocks") and "roll back staging to v1" in r["text"]]


async def rollback_records(client, service: str) -> list:
    state = await service_state(client, service)
    return [d for d in state.deliveries if d.request_text.startswith("roll back")]


async def test_only_a_version_with_one_before_it_offers_roll_back(chat, bot):
    ts, service, first, second = await two_versions(chat)
    assert "blocks" not in first  # v1 is the first: nothing to go back to
    assert actions(second) == ["roll_back_live"]
    button = second["blocks"][-1]["elements"][0]
    assert button["text"]["text"] == "Roll back to v1"
    assert button["confirm"]["title"]["text"] == "Roll back staging?"
    value = json.loads(button["value"])
    assert (value["s"], value["e"]) == (service, "staging")
    assert value["d"].startswith(f"delivery/{service}/2-")


async def test_the_button_asks_what_the_command_asks_and_is_then_spent(chat, bot, client):
    ts, service, _, second = await two_versions(chat)
    await chat.click("U0ALICE", second["ts"], "roll_back_live")
    said = await chat.wait_for(ts, lambda r: r["text"].startswith("*Roll back* of"))
    assert f"*{service}* in *staging*" in said["text"]
    assert "once approved on its card" in said["text"]
    card = await chat.card(ts, f"{service}: roll back staging to v1: waiting")
    # v2 added the memo: the roll back takes it, so the card says so and asks to confirm it
    lost = "v2 added entries.memo: it goes, with its values"
    sections = [b["text"]["text"] for b in card["blocks"] if b["type"] == "section"]
    assert f"*This roll back loses data.* Approving it means accepting:\n• {lost}\n" in (
        "\n".join(sections)
    )
    assert actions(card) == ["approve_losing_data", "reject", "cancel"]
    button = card["blocks"][-1]["elements"][0]
    assert button["text"]["text"] == "Roll back staging, losing data"
    assert button["confirm"]["text"]["text"] == f"Rolling back loses: {lost}"
    await chat.wait_for(ts, lambda r: "wants to roll *staging* back to v1" in r["text"])

    await chat.say("U0BOB", "<@U0SHIPMATE> approve staging", thread_ts=ts)  # not knowingly
    (plain,) = await eventually(lambda: chat.ephemeral("U0BOB"), what="bob told privately")
    assert plain.startswith(f":no_entry: rolling {service} back in staging loses data: {lost}.")
    assert "restore a backup instead" in plain
    await chat.click("U0BOB", card["ts"], "approve_losing_data")
    await chat.card(ts, f"{service}: roll back staging to v1: delivered")
    rewound = await chat.wait_for(ts, lambda r: "is rolled back to v1" in r["text"])
    assert "blocks" not in rewound
    assert (await service_state(client, service)).deployments["staging"].version == 1

    await chat.click("U0ALICE", second["ts"], "roll_back_live")  # a spent button
    (again,) = await eventually(lambda: chat.ephemeral("U0ALICE"), what="alice told privately")
    assert again.startswith("This button's roll back (`delivery/") and "ended (succeeded)" in again
    assert f"`@shipmate roll back {service} in staging`" in again
    assert len(await rollback_records(client, service)) == 1


async def test_a_click_by_someone_not_allowed_is_refused_and_starts_nothing(chat, bot, client):
    ts, service, _, second = await two_versions(chat)
    await chat.click("U0CAROL", second["ts"], "roll_back_live")
    # told to carol alone, her mention a working one
    (refused,) = await eventually(lambda: chat.ephemeral("U0CAROL"), what="carol told privately")
    assert refused == (
        ":no_entry: <@U0CAROL> may not ask for builds or changes; an admin can add you to "
        "SHIPMATE_DEVELOPERS"
    )
    await chat.caught_up()
    assert [r for r in await chat.thread(ts) if r["text"].startswith(":no_entry:")] == []
    assert await rollback_records(client, service) == []
    assert rollbacks(await chat.thread(ts)) == []

    # Refused, it left nothing behind: someone allowed can still use the button.
    await chat.click("U0ALICE", second["ts"], "roll_back_live")
    await chat.card(ts, f"{service}: roll back staging to v1: waiting")


async def test_a_double_click_and_a_second_person_start_one_roll_back(chat, bot, client):
    ts, service, _, second = await two_versions(chat)
    await asyncio.gather(*(chat.click("U0ALICE", second["ts"], "roll_back_live") for _ in "ab"))
    await chat.card(ts, f"{service}: roll back staging to v1: waiting")
    await chat.click("U0BOB", second["ts"], "roll_back_live")
    (bob,) = await eventually(lambda: chat.ephemeral("U0BOB"), what="bob told privately")
    (alice,) = await eventually(lambda: chat.ephemeral("U0ALICE"), what="alice told privately")
    await chat.caught_up()
    said = [r for r in await chat.thread(ts) if r["text"].startswith("*Roll back* of")]
    assert len(said) == 1  # one answer in the thread, the others privately
    delivery_id = said[0]["text"].split("`")[1]
    told = f"This button's roll back is already asked for: `{delivery_id}`, on its card."
    assert bob == alice == told
    assert len(rollbacks(await chat.thread(ts))) == 1
    assert len(await rollback_records(client, service)) == 1


async def test_a_forged_value_is_ignored(chat, bot, client):
    ts, service, _, second = await two_versions(chat)
    forged = json.dumps({"s": "<!channel>", "e": "staging", "d": "delivery/x-api/1-abc"})
    await chat.click("U0ALICE", second["ts"], "roll_back_live", forged_value=forged)
    await chat.caught_up()
    after = [r["text"] for r in await chat.thread(ts) if float(r["ts"]) > float(second["ts"])]
    assert after == []  # no answer, no roll back
    assert await rollback_records(client, service) == []


# The service's rules for a roll back asked from a live message, on the workflows alone.


async def test_an_old_message_does_not_roll_back_a_newer_deploy(client, fake):
    script, settings = fake
    text, spec = unique("build a todo api")
    await deliver(client, settings, text, spec)
    v2 = await deliver(client, settings, "also add a priority field", spec)
    v3 = await deliver(client, settings, "also add a done field", spec)
    handle = client.get_workflow_handle(service_workflow_id(spec.name))
    target = await handle.query(ServiceWorkflow.rollback_to, "staging")
    assert target.version == 2
    assert await handle.query(ServiceWorkflow.rollback_to, "prod") is None

    with pytest.raises(delivery_client.DecisionRefused, match="has changed since that message: v3"):
        await undo_from(client, settings, spec.name, v2.delivery_id)
    ticket = await undo_from(client, settings, spec.name, v3.delivery_id)
    assert ticket.delivery_id.startswith(f"delivery/{spec.name}/4-")


async def test_a_roll_back_from_a_message_waits_for_no_delivery(client, fake):
    script, settings = fake
    text, spec = unique("build a todo api")
    await deliver(client, settings, text, spec)
    v2 = await deliver(client, settings, "also add a priority field", spec)
    running = await delivery_client.request_change(
        client, settings, "also add a done field", spec, "U0ALICE"
    )
    with pytest.raises(
        delivery_client.DecisionRefused, match=f"in flight \\(`{running.delivery_id}`"
    ):
        await undo_from(client, settings, spec.name, v2.delivery_id)
    queued = await undo(client, settings, ROLL_BACK, spec.name)  # the command still queues
    assert queued.queued_behind == 1


async def undo_from(client, settings, service: str, delivery_id: str):
    return await delivery_client.request_undo(
        client,
        settings,
        ROLL_BACK,
        service,
        "staging",
        "U0ALICE",
        request_key=f"rollback/C0TEST/{delivery_id}",
        from_delivery=delivery_id,
    )
