"""A plan with words Shipmate did not read waits for its requester (#30): *Build it*
starts exactly the plan shown, *Edit…* opens it in a modal that is read exactly when
sent, and a plan that does not read stays in the modal with the line and the reason."""

from __future__ import annotations

from testkit.chat import actions, letters


def typed(plan: str) -> dict:
    return {"plan": {"text": plan}}


async def waiting_plan(chat, name: str) -> tuple[str, dict]:
    ts = await chat.say(
        "U0ALICE",
        f"<@U0SHIPMATE> a {name} api: hives have location and frames int. vibes immaculate",
    )
    shown = await chat.wait_for(ts, lambda r: "*Build it* starts exactly this" in r["text"])
    return ts, shown


async def test_nothing_starts_unseen_and_build_it_starts_the_plan_shown(chat, bot):
    name = f"apiary{letters()}"
    ts, shown = await waiting_plan(chat, name)
    assert "I didn't use: vibes, immaculate." in shown["text"]
    assert f"service {name}-api" in shown["text"]
    assert actions(shown) == ["plan_answer_0", "plan_edit"]
    await chat.caught_up()
    assert not any(r["text"].startswith("On it") for r in await chat.thread(ts))

    await chat.click("U0ALICE", shown["ts"], "plan_answer_0")
    started = await chat.wait_for(ts, lambda r: r["text"].startswith("On it"))
    assert f"*{name}-api*" in started["text"] and "Hive: location, frames (int)" in started["text"]
    answered = next(m for m in await chat.thread(ts) if m["ts"] == shown["ts"])
    assert actions(answered) == []  # nobody builds it twice
    await chat.card(ts, "waiting for approval")


async def test_edit_reads_the_plan_exactly_and_refuses_one_that_does_not_read(chat, bot):
    name = f"inspection{letters()}"
    ts, shown = await waiting_plan(chat, name)
    await chat.click("U0ALICE", shown["ts"], "plan_edit")
    modal = await chat.modal("U0ALICE")
    assert modal["title"]["text"] == "Edit the plan"
    plan = modal["blocks"][0]["element"]["initial_value"]
    assert plan.startswith(f"service {name}-api\n")

    broken = plan.replace("frames int", "frames integr")
    refused = await chat.submit("U0ALICE", modal["id"], typed(broken))
    assert not refused["ok"]
    assert "unknown type" in refused["errors"]["plan"] and "line" in refused["errors"]["plan"]
    assert (await chat.modal("U0ALICE"))["id"] == modal["id"]  # still open, nothing lost

    edited = plan.replace("frames int", "frames int, queen_seen bool")
    sent = await chat.submit("U0ALICE", modal["id"], typed(edited))
    assert sent["ok"], sent
    started = await chat.wait_for(ts, lambda r: r["text"].startswith("On it"))
    assert "queen_seen (bool)" in started["text"]
    answered = next(m for m in await chat.thread(ts) if m["ts"] == shown["ts"])
    assert actions(answered) == []
