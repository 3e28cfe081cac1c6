"""A new request never eats a running service (#29 item 3): "build a … api" naming a
service that exists is asked about, with a button for "change it" and one for a new
name, before anything starts; the service entity refuses a new service of a taken name
from any caller (the command line too), leaving nothing in its history."""

from __future__ import annotations

import pytest

from shipmate import delivery_client
from testkit.chat import actions, letters
from testkit.waiting import eventually
from tests.workflows.test_undo_deliveries import approve_and_finish
from tests.workflows.test_workflows import unique, until
from workflows.service_workflow import service_workflow_id


async def live(chat, name: str, what: str) -> str:
    """`name`'s first version asked for in a thread, approved and delivered."""
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name} api: {what}")
    card = await chat.card(ts, "waiting for approval")
    await chat.click("U0BOB", card["ts"], "approve")
    await chat.card(ts, "delivered")
    return ts


async def test_a_new_request_naming_a_running_service_asks_first(chat, bot, client):
    name = f"ledger{letters()}"
    await live(chat, name, "entries have amount and memo")

    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name} api: invoices have total")
    asked = await chat.wait_for(ts, lambda r: "already exists" in r["text"])
    assert asked["text"].startswith(
        f"*{name}-api* already exists (v1: Entry). Change it into what you asked for, or "
        "build a new service under another name?"
    )
    assert actions(asked) == ["plan_answer_0", "plan_answer_1"]
    await chat.caught_up()
    assert not any(r["text"].startswith("On it") for r in await chat.thread(ts))
    state = await delivery_client.current_spec(client, f"{name}-api")
    assert state.version == 1  # nothing queued on it

    await chat.click("U0ALICE", asked["ts"], "plan_answer_0")  # change it
    await chat.wait_for(ts, lambda r: r["text"] == f"<@U0ALICE> answered: change {name}-api")
    said = await chat.wait_for(ts, lambda r: r["text"].startswith("Next version of"))
    assert f"*{name}-api*" in said["text"]
    assert "Invoice" in said["text"] and "Entry" in said["text"]  # added, and removed
    card = await chat.card(ts, "waiting for approval")
    assert "v2" in card["text"]
    assert "drops the entries table, with its rows" in str(card["blocks"])  # named, to confirm


async def test_the_other_button_builds_a_new_service_under_a_free_name(chat, bot, client):
    name = f"depot{letters()}"
    await live(chat, name, "crates have label")
    ts = await chat.say("U0BOB", f"<@U0SHIPMATE> build a {name} api: pallets have weight")
    asked = await chat.wait_for(ts, lambda r: "already exists" in r["text"])
    assert f"`build it as {name}2-api`" in asked["text"]

    await chat.click("U0BOB", asked["ts"], "plan_answer_1")
    started = await chat.wait_for(ts, lambda r: r["text"].startswith("On it"))
    assert f"*{name}2-api*" in started["text"] and "Pallet" in started["text"]
    await chat.card(ts, "waiting for approval")
    untouched = await delivery_client.current_spec(client, f"{name}-api")
    assert [e.name for e in untouched.entities] == ["Crate"]


async def test_typing_the_answer_works_as_the_button_does(chat, bot):
    name = f"quay{letters()}"
    await live(chat, name, "berths have length")
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name} api: ships have flag")
    await chat.wait_for(ts, lambda r: "already exists" in r["text"])
    await chat.say("U0ALICE", f"<@U0SHIPMATE> Change {name}-api.", thread_ts=ts)
    await chat.wait_for(ts, lambda r: r["text"].startswith(f"Next version of *{name}-api*"))


async def test_the_service_refuses_a_new_service_of_a_taken_name_from_any_caller(client, fake):
    """The rule lives in the service entity: a caller that skips the question (the
    command line without --service) is refused, while the name's first version is still
    on its way as well as after; a change, said as one, still queues."""
    script, settings = fake
    text, spec = unique("build a notes api: notes have body")
    first = await delivery_client.request_change(
        client, settings, text, spec, "U0ALICE", new_service=True
    )
    with pytest.raises(delivery_client.DecisionRefused) as refused:
        await delivery_client.request_change(
            client, settings, text, spec, "U0ALICE", new_service=True
        )
    assert str(refused.value) == (
        f"{spec.name} already exists (its first version is on its way), and a new service of "
        f"that name would replace it. Ask for a change of {spec.name}, or give the new "
        "service another name."
    )
    await approve_and_finish(client, first.delivery_id)

    async def recorded():
        return await delivery_client.current_spec(client, spec.name)

    await eventually(recorded, what="v1 recorded on the service")
    with pytest.raises(delivery_client.DecisionRefused, match=r"already exists \(v1: Note\)"):
        await delivery_client.request_change(
            client, settings, text, spec, "U0ALICE", new_service=True
        )
    handle = client.get_workflow_handle(service_workflow_id(spec.name))
    accepted = [
        e
        async for e in handle.fetch_history_events()
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert len(accepted) == 1  # the refusals left nothing in the history
    change = await delivery_client.request_change(
        client, settings, "also add a title", spec, "U0ALICE", new_service=False
    )
    assert change.delivery_id.startswith(f"delivery/{spec.name}/2-")
    handle = client.get_workflow_handle(change.delivery_id)
    await until(handle, lambda status: True)  # the service starts it a moment later
    await handle.terminate("seen what was needed")
