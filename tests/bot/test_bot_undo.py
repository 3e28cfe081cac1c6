"""Roll back and tear down said to Shipmate in Slack: a gated delivery with its own card.

Through the emulator with the real bot, Temporal and a worker with scripted stages.
"""

from __future__ import annotations

from testkit.chat import Chat, actions
from testkit.waiting import eventually
from tests.bot.test_bot_decisions import _at_least, started
from tests.workflows.test_undo_deliveries import service_state


async def delivered(chat: Chat) -> tuple[str, str]:
    """A service alice asked for and bob approved: its thread and its name."""
    ts, delivery_id, card = await started(chat, "ledger")
    await chat.click("U0BOB", card["ts"], "approve")
    await chat.card(ts, "delivered")
    return ts, delivery_id.split("/")[1]


async def test_tear_down_in_slack_names_the_database_and_needs_an_approver(chat, bot, client):
    ts, service = await delivered(chat)
    await chat.say("U0ALICE", f"<@U0SHIPMATE> tear down {service} in staging", thread_ts=ts)
    said = await chat.wait_for(ts, lambda r: r["text"].startswith("*Tear down* of"))
    assert "once approved on its card" in said["text"]
    card = await chat.card(ts, f"{service}: tear down staging: waiting for approval")
    text = str(card["blocks"])
    assert f"Approving deletes the postgresql database of {service}" in text
    approve = next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0]
    assert approve["confirm"]["title"]["text"] == "Tear down staging?"
    assert actions(card) == ["approve", "reject", "cancel"]  # approved only through the confirm

    await chat.click("U0CAROL", card["ts"], "approve")  # carol only watches
    (refused,) = await eventually(lambda: chat.ephemeral("U0CAROL"), what="carol refused")
    assert refused == ":no_entry: <@U0CAROL> is not allowed to approve staging deploys"
    await chat.click("U0BOB", card["ts"], "approve")
    await chat.card(ts, f"{service}: tear down staging: delivered")


async def test_nothing_to_roll_back_is_said_plainly_and_nothing_starts(chat, bot, client):
    ts, service = await delivered(chat)
    await chat.say("U0ALICE", f"<@U0SHIPMATE> roll back {service} in staging", thread_ts=ts)
    (said,) = await eventually(lambda: chat.ephemeral("U0ALICE"), what="alice told privately")
    assert said == (
        f":no_entry: {service} has run only v1 in staging: there is no earlier version to "
        "roll back to"
    )
    await chat.say("U0ALICE", "<@U0SHIPMATE> roll back ghost-api in staging")
    told = await eventually(lambda: _at_least(chat.ephemeral("U0ALICE"), 2), what="a second")
    assert told[1].startswith(":no_entry: I know no service called ghost-api")
    await chat.caught_up()
    assert [r for r in await chat.thread(ts) if r["text"].startswith(":no_entry:")] == []
    state = await service_state(client, service)
    assert [d for d in state.deliveries if d.request_text.startswith("roll back")] == []
