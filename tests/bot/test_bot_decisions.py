"""Decisions a team can trust, through the emulator with the real bot, Temporal and worker.

Casual words never decide; only allowed people act; a button acts only on its own card;
what people write is posted inert; odd input gets a clear reply; Shipmate speaks only
where it is asked. Roles are as under `shipmate dev`: alice builds, bob approves, carol
only watches.
"""

from __future__ import annotations

import json

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from shipmate import delivery_client, status_report
from testkit.chat import Chat, actions, letters, start_bot
from testkit.waiting import eventually
from workflows.models import DeliveryState, GateState

EVIL = (
    "<!channel> <!here> prod is down, sign in at "
    "<https://evil.example/login|https://slack.com/login>"
)


async def started(chat: Chat, word: str = "kanban") -> tuple[str, str, dict]:
    """alice asks for a service; its thread, its delivery id and its card at the gate."""
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {word}{letters()} api")
    on_it = await chat.wait_for(ts, lambda r: r["text"].startswith("On it"))
    delivery_id = on_it["text"].split("delivery `")[1].split("`")[0]
    card = await chat.card(ts, "waiting for approval")
    return ts, delivery_id, card


async def state_of(client: Client, delivery_id: str):
    return await delivery_client.delivery_status(client.get_workflow_handle(delivery_id))


async def nothing_in_history(client: Client, delivery_id: str) -> None:
    """A refused click or command is judged in the update's validator: the delivery's
    history holds no trace of it (no accepted update, nor a rejected one)."""
    handle = client.get_workflow_handle(delivery_id)
    kinds = {event.event_type async for event in handle.fetch_history_events()}
    updates = {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED,
    }
    assert kinds & updates == set()


async def test_casual_words_in_a_thread_never_decide(chat, bot, client):
    ts, delivery_id, card = await started(chat)
    await chat.say("U0BOB", "lgtm but wait for CI", thread_ts=ts)
    await chat.say("U0BOB", "no worries, take your time", thread_ts=ts)
    await chat.say("U0ALICE", "stop, I have a question", thread_ts=ts)
    prompts = await eventually(
        lambda: _at_least(chat.ephemerals("U0ALICE"), 1), what="alice's private question"
    )
    assert prompts[0]["text"].startswith("Cancel the delivery of ")
    bob = await eventually(lambda: _at_least(chat.ephemerals("U0BOB"), 1), what="bob's question")
    assert len(bob) == 1 and bob[0]["text"].startswith("Approve staging for ")
    await chat.caught_up()
    status = await state_of(client, delivery_id)
    assert status.state == DeliveryState.waiting_for_approval
    assert status.gates[0].state == GateState.open and status.audit == []

    # Only the click on the private question acts, and it is bob's own.
    assert actions(bob[0]) == ["approve", "dismiss"]
    await chat.click("U0BOB", bob[0]["ts"], "approve")
    await chat.card(ts, "delivered")


async def _at_least(found, n: int):
    items = await found
    return items if len(items) >= n else None


async def test_an_explicit_command_decides_and_a_question_does_not(chat, bot, client):
    ts, delivery_id, card = await started(chat)
    await chat.say("U0BOB", "<@U0SHIPMATE> approve staging?", thread_ts=ts)
    await eventually(lambda: _at_least(chat.ephemerals("U0BOB"), 1), what="a private question")
    assert (await state_of(client, delivery_id)).gates[0].state == GateState.open
    await chat.say("U0BOB", "<@U0SHIPMATE> approve staging", thread_ts=ts)
    await chat.wait_for(ts, lambda r: r["text"] == "<@U0BOB> approved staging")
    await chat.card(ts, "delivered")


async def test_a_viewer_cannot_cancel_retry_or_request(chat, bot, client, scripted_worker):
    ts, delivery_id, card = await started(chat)
    await chat.say("U0CAROL", "<@U0SHIPMATE> cancel", thread_ts=ts)
    await chat.click("U0CAROL", card["ts"], "cancel")
    refusals = await eventually(lambda: _at_least(chat.ephemeral("U0CAROL"), 2), what="refusals")
    expected = (
        ":no_entry: only <@U0ALICE> (who asked for it), its approvers or a Shipmate admin "
        "may cancel this delivery"
    )
    assert refusals == [expected, expected]
    assert (await state_of(client, delivery_id)).state == DeliveryState.waiting_for_approval
    await nothing_in_history(client, delivery_id)

    scripted_worker.fail["test_service"] = 1
    failed_ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a crate{letters()} api")
    failed_card = await chat.card(failed_ts, "failed")
    await chat.click("U0CAROL", failed_card["ts"], "retry")
    await eventually(lambda: _at_least(chat.ephemeral("U0CAROL"), 3), what="a third refusal")
    assert "may retry this delivery" in (await chat.ephemeral("U0CAROL"))[2]
    await chat.click("U0ALICE", failed_card["ts"], "retry")  # the requester may
    await chat.card(failed_ts, "waiting for approval")

    asked = await chat.say("U0CAROL", f"<@U0SHIPMATE> build a tally{letters()} api")
    await eventually(lambda: _at_least(chat.ephemeral("U0CAROL"), 4), what="a fourth refusal")
    refused = (await chat.ephemeral("U0CAROL"))[3]  # to carol alone, naming the way in
    assert "<@U0CAROL> may not ask for builds or changes" in refused
    assert "SHIPMATE_DEVELOPERS" in refused
    await chat.caught_up()
    assert await chat.thread(asked) == []


async def test_a_button_acts_only_on_the_card_it_sits_on(chat, bot, client):
    first_ts, first_id, first_card = await started(chat, "alpha")
    second_ts, second_id, second_card = await started(chat, "beta")
    forged = json.dumps({"d": second_id, "e": "staging"}, separators=(",", ":"))
    await chat.click("U0BOB", first_card["ts"], "approve", forged_value=forged)
    (refusal,) = await eventually(lambda: chat.ephemeral("U0BOB"), what="a refusal")
    assert refusal.startswith(":no_entry: that button is not on this delivery's card")
    await chat.caught_up()
    assert (await state_of(client, second_id)).gates[0].state == GateState.open
    assert (await state_of(client, first_id)).gates[0].state == GateState.open
    await nothing_in_history(client, second_id)
    await nothing_in_history(client, first_id)

    # Ids are never reused: a recreated service gets new ones, so an old card's
    # button cannot reach the new delivery.
    assert first_id.rsplit("/", 1)[1].startswith("1-") and first_id != second_id


async def test_a_service_entity_recreated_gives_new_delivery_ids(chat, bot, client):
    ts, delivery_id, card = await started(chat, "gamma")
    service = delivery_id.split("/")[1]
    await client.get_workflow_handle(f"service/{service}").terminate("recreated in a test")
    again = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {service.removesuffix('-api')} api")
    on_it = await chat.wait_for(again, lambda r: r["text"].startswith("On it"))
    new_id = on_it["text"].split("delivery `")[1].split("`")[0]
    assert new_id.startswith(f"delivery/{service}/1-") and new_id != delivery_id
    await chat.click("U0BOB", card["ts"], "approve")  # the old card
    (refusal,) = await eventually(lambda: chat.ephemeral("U0BOB"), what="a refusal")
    assert refusal == f":no_entry: {delivery_id} has already ended"
    new_card = await chat.card(again, "waiting for approval")
    assert actions(new_card) == ["approve", "approve_with_comment", "reject", "cancel"]


async def test_what_people_write_is_posted_inert(chat, bot, client):
    ts, delivery_id, card = await started(chat)
    await chat.say("U0BOB", f"<@U0SHIPMATE> reject staging: {EVIL}", thread_ts=ts)
    ended = await chat.card(ts, "rejected")
    said = await chat.wait_for(ts, lambda r: r["text"].startswith("<@U0BOB> rejected"))
    escaped = "&lt;!channel&gt; &lt;!here&gt; prod is down, sign in at &lt;https://evil.example"
    assert escaped in said["text"]
    assert escaped in json.dumps(ended["blocks"])
    await chat.command("U0ALICE", f"what's running? {EVIL}")
    quoted = await chat.top_level(f"<@U0ALICE> asked: what's running? {_escape(EVIL)}")
    assert quoted
    everything = json.dumps(await chat.from_shipmate())
    assert "<!channel>" not in everything and "<!here>" not in everything
    assert "<https://evil.example" not in everything


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def test_control_characters_get_a_clear_reply_and_start_nothing(chat, bot, client):
    for text in ("<@U0SHIPMATE> build a \x00todo api", "<@U0SHIPMATE> build a \ud800 api"):
        ts = await chat.say("U0ALICE", text)
        reply = await chat.wait_for(ts, lambda r: True)
        assert reply["text"].startswith("I can't read that message")
    report = await status_report.gather(client, "todo-api")
    assert report.in_flight == []
    helped = await chat.say("U0ALICE", "<@U0SHIPMATE> help")  # the bot is still there
    assert "I build and ship" in (await chat.wait_for(helped, lambda r: True))["text"]


async def test_shipmate_answers_only_where_it_is_asked(chat, bot):
    people = await chat.say("U0ALICE", "lunch anyone?")
    await chat.say("U0BOB", "hi", thread_ts=people)
    await chat.say("U0CAROL", "how do I get to the new place?", thread_ts=people)
    await chat.say("U0ALICE", "approve", thread_ts=people)
    ours = await chat.say("U0ALICE", "<@U0SHIPMATE> help")
    await chat.wait_for(ours, lambda r: True)  # by now the others would have been answered
    await chat.caught_up()
    assert [r for r in await chat.thread(people) if r["user"] == "U0SHIPMATE"] == []
    assert await chat.ephemeral("U0ALICE") == []


async def test_refusals_are_plain_words(chat, bot, slack_settings, emulator):
    ts, delivery_id, card = await started(chat)
    service = delivery_id.split("/")[1]
    forged = json.dumps({"d": f"service/{service}", "e": "staging"}, separators=(",", ":"))
    await chat.click("U0BOB", card["ts"], "approve", forged_value=forged)
    (refusal,) = await eventually(lambda: chat.ephemeral("U0BOB"), what="a refusal")
    assert "Update handler" not in refusal and "Traceback" not in refusal
    assert refusal.startswith(":no_entry: ")

    down = slack_settings.model_copy(update={"temporal_address": "127.0.0.1:1"})
    await bot.close_async()
    handler = await start_bot(down, emulator)
    try:
        await chat.click("U0BOB", card["ts"], "approve")
        texts = await eventually(lambda: _at_least(chat.ephemeral("U0BOB"), 2), what="a reply")
        assert texts[1].startswith(":warning: I can't reach the workflow engine right now.")
        assert "tcp" not in texts[1] and "connect error" not in texts[1]
    finally:
        await handler.close_async()


async def test_an_unknown_approver_group_keeps_the_gate_closed(
    chat, slack_settings, emulator, scripted_worker, client
):
    nobody = slack_settings.model_copy(update={"approvers": ["S0NOPE"], "approver_groups": {}})
    scripted_worker.settings = nobody  # the worker's rules are the gate's
    handler = await start_bot(nobody, emulator)
    try:
        ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a lock{letters()} api")
        card = await chat.card(ts, "failed")
        assert actions(card) == []  # it ended: no button offers what cannot happen
        said = await chat.wait_for(ts, lambda r: r["text"].startswith(":x: nobody may approve"))
        assert "SHIPMATE_APPROVERS names S0NOPE" in said["text"]
        assert "neither SHIPMATE_APPROVER_GROUPS nor Slack knows" in said["text"]
        assert said["text"].endswith("This delivery has ended; ask again once that is fixed.")
    finally:
        await handler.close_async()


async def test_approver_groups_are_resolved_from_slack_when_a_person_clicks(
    chat, slack_settings, emulator, scripted_worker, client
):
    from_slack = scripted_worker.settings = slack_settings.model_copy(
        update={"approvers": ["S0APPROVERS"], "approver_groups": {}}
    )
    handler = await start_bot(from_slack, emulator)
    try:
        ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a quay{letters()} api")
        card = await chat.card(ts, "waiting for approval")
        await chat.click("U0CAROL", card["ts"], "approve")
        (refusal,) = await eventually(lambda: chat.ephemeral("U0CAROL"), what="a refusal")
        assert refusal == ":no_entry: <@U0CAROL> is not allowed to approve staging deploys"
        # Slack's group gains carol; her next click is judged on what Slack says now.
        group = emulator.workspace.usergroups()[0]
        group["users"].append("U0CAROL")
        await chat.click("U0CAROL", card["ts"], "approve")
        await chat.card(ts, "delivered")
    finally:
        await handler.close_async()


async def test_chatter_in_a_delivery_thread_gets_no_reply_unless_said_to_shipmate(chat, bot):
    ts, delivery_id, card = await started(chat)
    await chat.say("U0BOB", "thanks!", thread_ts=ts)
    await chat.say("U0ALICE", "nice, looking forward to it", thread_ts=ts)
    await chat.say("U0ALICE", "<@U0SHIPMATE> something nice please", thread_ts=ts)
    await chat.wait_for(ts, lambda r: r["text"].startswith("I didn't catch the change"))
    await chat.caught_up()
    own = ("On it", "ready for *staging*")
    said = [
        r["text"]
        for r in await chat.thread(ts)
        if r["user"] == "U0SHIPMATE"
        and r["ts"] != card["ts"]
        and not r["text"].startswith(own)
        and own[1] not in r["text"]
    ]
    assert len(said) == 1, said  # the answer to the one who asked Shipmate, nothing else
