"""Slack that people enjoy, through the emulator with the real bot, Temporal and worker.

Comments and reasons come through modals and land in the thread (inert) and the audit
trail; approvers are told by DM with the card's buttons, reminded before a gate
expires, and their DM says how the gate closed; production news reaches the channel.
Roles are as under `shipmate dev`: alice builds, bob approves, carol only watches.
"""

from __future__ import annotations

import pytest
from temporalio.client import Client

from activities.slack_notify import SlackNotifier
from shipmate import delivery_client
from testkit.chat import Chat, actions, letters, start_bot
from testkit.waiting import eventually
from workflows.access import Origin, PersonAction
from workflows.approvals import DecisionNotAllowed, check_origin
from workflows.models import DeliveryState, DeliveryStatus, GateState, Stage, StageState
from workflows.stage_models import Moment, MomentKind

WORDS = "words", "text"  # the modal's input: block_id, action_id


def typed(text: str) -> dict:
    return {WORDS[0]: {WORDS[1]: text}}


async def started(chat: Chat, word: str = "ledger", more: str = "") -> tuple[str, str, dict]:
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {word}{letters()} api{more}")
    on_it = await chat.wait_for(ts, lambda r: r["text"].startswith("On it"))
    delivery_id = on_it["text"].split("delivery `")[1].split("`")[0]
    return ts, delivery_id, await chat.card(ts, "waiting for approval")


async def status_of(client: Client, delivery_id: str):
    return await delivery_client.delivery_status(client.get_workflow_handle(delivery_id))


async def direct_messages(chat: Chat, user: str) -> list[dict]:
    return await chat.messages("D" + user[1:])


async def test_reject_with_reason_opens_a_modal_and_the_reason_reaches_thread_and_audit(
    chat, bot, client
):
    ts, delivery_id, card = await started(chat)
    assert actions(card) == ["approve", "approve_with_comment", "reject", "cancel"]
    clicked = await chat.click("U0BOB", card["ts"], "reject")
    assert clicked["ok"], clicked
    modal = await chat.modal("U0BOB")
    assert modal["title"]["text"] == "Reject staging" and modal["submit"]["text"] == "Reject"
    assert delivery_id in str(modal["blocks"])
    assert (await status_of(client, delivery_id)).gates[0].state == GateState.open

    # Spaces are no reason: the modal stays open and says so under the field.
    refused = await chat.submit("U0BOB", modal["id"], typed("   "))
    assert not refused["ok"] and refused["errors"]["words"]
    assert (await chat.modal("U0BOB"))["id"] == modal["id"]

    sent = await chat.submit("U0BOB", modal["id"], typed("freeze week <!channel> & <@U0CAROL>"))
    assert sent["ok"] and sent["closed"], sent
    said = await chat.wait_for(ts, lambda r: r["text"].startswith("<@U0BOB> rejected staging"))
    assert said["text"] == (
        "<@U0BOB> rejected staging: freeze week &lt;!channel&gt; &amp; &lt;@U0CAROL&gt;"
    )
    await chat.card(ts, "rejected")
    status = await status_of(client, delivery_id)
    assert status.state == DeliveryState.rejected
    assert status.audit[-1].reason == "freeze week <!channel> & <@U0CAROL>"


async def test_approve_with_comment_and_a_refused_modal_tells_only_that_person(chat, bot, client):
    ts, delivery_id, card = await started(chat, "atlas")
    # alice asked for it and may approve staging; carol may not approve at all.
    await chat.click("U0CAROL", card["ts"], "approve_with_comment")
    modal = await chat.modal("U0CAROL")
    assert modal["title"]["text"] == "Approve staging"
    assert (await chat.submit("U0CAROL", modal["id"], typed("looks fine")))["ok"]
    refusal = await eventually(lambda: chat.ephemeral("U0CAROL"), what="carol's refusal")
    assert "not allowed to approve staging" in refusal[-1]
    assert (await status_of(client, delivery_id)).gates[0].approvals == []

    await chat.click("U0BOB", card["ts"], "approve_with_comment")
    modal = await chat.modal("U0BOB")
    assert (await chat.submit("U0BOB", modal["id"], typed("diff checked")))["ok"]
    await chat.wait_for(ts, lambda r: r["text"] == "<@U0BOB> approved staging: diff checked")
    await chat.card(ts, "delivered")


async def test_approvers_get_a_dm_with_the_buttons_and_it_says_how_the_gate_closed(
    chat, bot, client
):
    ts, delivery_id, card = await started(chat, "harbor")
    dm = await eventually(lambda: direct_messages(chat, "U0BOB"), what="bob's DM")
    assert len(dm) == 1 and "waits on your approval" in dm[0]["text"]
    assert actions(dm[0]) == ["approve", "approve_with_comment", "reject"]
    shown = str(dm[0]["blocks"])
    assert "/archives/C0GENERAL/p" in shown and "open the thread" in shown  # a link that opens
    assert "<!date^" in shown and "1 more needed from <@U0BOB>" in shown  # who and by when
    assert await direct_messages(chat, "U0ALICE") == []  # the requester is in the thread

    await chat.click("U0BOB", dm[0]["ts"], "approve", channel="D0BOB")
    await chat.wait_for(ts, lambda r: r["text"] == "<@U0BOB> approved staging")
    await chat.card(ts, "delivered")

    async def edited():
        messages = await direct_messages(chat, "U0BOB")
        return messages if "approved" in messages[0]["text"] else None

    dm = await eventually(edited, what="bob's DM saying the gate was approved")
    assert len(dm) == 1 and actions(dm[0]) == []  # no stale button left behind
    assert "approved by <@U0BOB>" in str(dm[0]["blocks"])


def test_a_direct_origin_counts_only_in_a_direct_message():
    """The validator's side of a DM button: claimed from a channel, it decides nothing."""
    from_dm = PersonAction(user="U0BOB", origin=Origin.direct, channel="D0BOB", message_ts="1.2")
    check_origin(from_dm, "C0GENERAL", "9.9")
    from_channel = from_dm.model_copy(update={"channel": "C0GENERAL"})
    with pytest.raises(DecisionNotAllowed, match="not in a direct message"):
        check_origin(from_channel, "C0GENERAL", "9.9")


async def test_a_gate_reminds_its_approvers_before_it_expires(
    chat, slack_settings, emulator, scripted_worker, client
):
    quick = scripted_worker.settings = slack_settings.model_copy(
        update={"approval_timeout_hours": 8 / 3600, "approval_reminder_hours": 5 / 3600}
    )
    handler = await start_bot(quick, emulator)
    try:
        ts, delivery_id, card = await started(chat, "tide")
        reminded = await chat.wait_for(ts, lambda r: r["text"].startswith(":alarm_clock:"))
        assert reminded["text"].startswith(":alarm_clock: <@U0BOB> the *staging* gate")
        assert "expires <!date^" in reminded["text"]

        async def bobs(predicate):
            return [m for m in await direct_messages(chat, "U0BOB") if predicate(m["text"])]

        nudge = await eventually(lambda: bobs(lambda t: "Reminder" in t), what="bob's reminder")
        assert len(nudge) == 1 and "still waits on your approval" in nudge[0]["text"]

        await chat.card(ts, "expired")
        closed = await eventually(lambda: bobs(lambda t: "expired" in t), what="the DM edited")
        assert actions(closed[0]) == []
        assert (await status_of(client, delivery_id)).state == DeliveryState.expired
    finally:
        await handler.close_async()


async def test_live_in_prod_reaches_the_channel_and_staging_stays_in_the_thread(chat, bot):
    ts, delivery_id, card = await started(chat, "beacon", ", deploy it to staging and prod")
    await chat.click("U0BOB", card["ts"], "approve")
    staging = await chat.wait_for(ts, lambda r: "is live in *staging*" in r["text"])
    card = await chat.card(ts, "waiting for approval")
    await chat.click("U0BOB", card["ts"], "approve")
    prod = await chat.wait_for(ts, lambda r: "is live in *prod*" in r["text"])
    assert prod.get("subtype") == "thread_broadcast" and staging.get("subtype") is None
    in_channel = [m for m in await chat.messages() if m.get("broadcast")]
    assert [m["text"] for m in in_channel] == [prod["text"]]


async def test_the_app_home_rejects_with_a_reason_and_links_each_thread(chat, bot, client):
    ts, delivery_id, card = await started(chat, "orbit")
    await chat.web.post(f"{chat.base}/_emulator/home_opened", json={"user": "U0BOB"})

    async def home_with_it():
        view = await chat.home("U0BOB")
        return view if view and delivery_id.split("/")[1] in str(view) else None

    view = await eventually(home_with_it, what="bob's home tab listing the delivery")
    buttons = {
        e["action_id"]: e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
    }
    assert list(buttons) == ["approve", "approve_with_comment", "reject"]
    assert "/archives/C0GENERAL/p" in str(view["blocks"])
    await chat.click_in_view("U0BOB", view["id"], "reject")
    modal = await chat.modal("U0BOB")
    assert (await chat.submit("U0BOB", modal["id"], typed("wrong branch")))["ok"]
    await chat.wait_for(ts, lambda r: r["text"] == "<@U0BOB> rejected staging: wrong branch")

    async def emptied():
        view = await chat.home("U0BOB")
        return view if "Nothing right now." in str(view["blocks"]) else None

    await eventually(emptied, what="the home tab without the rejected delivery")


async def test_prod_approve_in_the_app_home_asks_to_confirm(chat, bot, client):
    ts, delivery_id, card = await started(chat, "summit", ", deploy it to prod")
    await chat.web.post(f"{chat.base}/_emulator/home_opened", json={"user": "U0BOB"})

    async def home_with_it():
        view = await chat.home("U0BOB")
        return view if view and "→ *prod*" in str(view) else None

    view = await eventually(home_with_it, what="bob's home tab with the prod gate")
    approve = next(
        e
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "approve"
    )
    assert approve["confirm"]["title"]["text"] == "Deploy to production?"


def test_which_news_reaches_the_channel(settings):
    """Live, rolled back and failed go to the channel for the chosen environments: the
    production ones by default, or those SHIPMATE_BROADCAST_ENVIRONMENTS names."""
    status = DeliveryStatus(delivery_id="delivery/x/1", requester="U0ALICE")
    status.stages = [Stage(name="test"), Stage(name="deploy prod"), Stage(name="deploy staging")]
    live = {env: Moment(kind=MomentKind.deployed, environment=env) for env in ("prod", "staging")}
    failed = Moment(kind=MomentKind.failed, number=1)
    default, chosen = (
        SlackNotifier(settings.model_copy(update={"broadcast_environments": envs}))
        for envs in (None, ["staging"])
    )
    assert default.broadcasts(status, live["prod"]) and not default.broadcasts(
        status, live["staging"]
    )
    assert chosen.broadcasts(status, live["staging"]) and not chosen.broadcasts(
        status, live["prod"]
    )
    status.stages[0].state = StageState.failed  # the tests failed: no environment's news
    assert not default.broadcasts(status, failed)
    status.stages[0].state, status.stages[1].state = StageState.succeeded, StageState.failed
    assert default.broadcasts(status, failed) and not chosen.broadcasts(status, failed)
    gate_open = Moment(kind=MomentKind.gate_open, environment="prod")
    assert not default.broadcasts(status, gate_open)
