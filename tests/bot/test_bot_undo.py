"""Roll back and tear down said to Shipmate in Slack: a gated delivery with its own card.

Through the emulator with the real bot, Temporal and a worker with scripted stages.
"""

from __future__ import annotations

from testkit.chat import Chat, actions
from testkit.waiting import eventually
from tests.bot.test_bot_decisions import started
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
    ghost = await chat.say("U0ALICE", "<@U0SHIPMATE> roll back zzqxv-api in staging")
    told = await chat.wait_for(ghost, lambda r: "no service called" in r["text"])
    assert told["text"] == "I know no service called `zzqxv-api`."  # nothing near it
    assert actions(told) == []
    await chat.caught_up()
    assert [r for r in await chat.thread(ts) if r["text"].startswith(":no_entry:")] == []
    state = await service_state(client, service)
    assert [d for d in state.deliveries if d.request_text.startswith("roll back")] == []


async def test_a_misspelt_service_is_offered_by_its_real_name_and_the_click_asks_for_it(
    chat, bot, client
):
    ts, service = await delivered(chat)
    misspelt = service.removesuffix("-api")[:-1] + "z"  # 'ledgerabc-api' -> 'ledgerabz'
    asked_at = await chat.say("U0ALICE", f"<@U0SHIPMATE> tear down {misspelt} in staging")
    asked = await chat.wait_for(asked_at, lambda r: "no service called" in r["text"])
    assert asked["text"].startswith(
        f"I know no service called `{misspelt}`. Did you mean *{service}*?"
    )
    assert actions(asked) == ["plan_answer_0"]
    state = await service_state(client, service)
    assert [d for d in state.deliveries if d.request_text.startswith("tear down")] == []

    await chat.click("U0ALICE", asked["ts"], "plan_answer_0")
    said = await chat.wait_for(asked_at, lambda r: r["text"].startswith("*Tear down* of"))
    assert f"*Tear down* of *{service}* in *staging*" in said["text"]
    await chat.card(asked_at, f"{service}: tear down staging: waiting for approval")


async def test_an_undo_without_its_environment_asks_which_one_with_a_button_each(chat, bot, client):
    ts, service = await delivered(chat)
    asked_at = await chat.say("U0ALICE", f"<@U0SHIPMATE> roll back {service}")
    asked = await chat.wait_for(asked_at, lambda r: "Which environment" in r["text"])
    assert asked["text"].startswith(
        f"Which environment of *{service}* should I roll back? It runs in staging."
    )
    assert actions(asked) == ["plan_answer_0"]
    await chat.click("U0ALICE", asked["ts"], "plan_answer_0")
    (refused,) = await eventually(lambda: chat.ephemeral("U0ALICE"), what="alice told privately")
    assert refused.endswith("there is no earlier version to roll back to")


async def test_requests_for_modes_not_built_yet_get_an_honest_answer_and_nothing_starts(
    chat, bot, client
):
    asked = {
        # a load test of a service that does not exist
        "<@U0SHIPMATE> why is ledger-api so slow lately?": "I know no service called",
        "<@U0SHIPMATE> set up a GitHub Actions pipeline for our monorepo": "That isn't something",
        # a review that names nothing to read, or a service that does not exist
        "<@U0SHIPMATE> review my code for security holes": "I can review a service of mine",
        "<@U0SHIPMATE> review ledger-api for security holes": "I know no service called",
    }
    threads = []
    for text, answer in asked.items():
        ts = await chat.say("U0ALICE", text)
        said = await chat.wait_for(ts, lambda r: r["user"] == "U0SHIPMATE")
        assert said["text"].startswith(answer), said["text"]
        threads.append(ts)
    await chat.caught_up()
    for ts in threads:
        replies = [r["text"] for r in await chat.thread(ts) if r["ts"] != ts]
        assert len(replies) == 1, replies  # the answer alone: no plan, no delivery
