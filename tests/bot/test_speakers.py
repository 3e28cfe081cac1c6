"""Only people ask Shipmate for work: a mention posted by another app (a CI bot echoing
a pull request's title, an integration forwarding an alert) starts nothing."""

from __future__ import annotations

from shipmate import status_report
from testkit.chat import letters


async def test_a_mention_posted_by_another_app_starts_nothing(chat, bot, emulator, client):
    workspace = emulator.workspace
    github = {"id": "U0GITHUB", "name": "github", "real_name": "GitHub", "bot_id": "B0GITHUB"}
    workspace.seed["users"].append(github)
    workspace.channel("C0GENERAL")["members"].append("U0GITHUB")
    name = f"relay{letters()}"

    echoed = await chat.say("U0GITHUB", f"PR #12 merged: <@U0SHIPMATE> build a {name} api")
    await chat.caught_up()

    first = (await chat.deliveries("app_mention"))[0]  # github's; the barrier's is second
    assert first["acked"] and first["status"] == "acked"  # the bot heard it, and let it be
    assert await chat.thread(echoed) == []
    assert (await status_report.gather(client, f"{name}-api")).services == []

    asked = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name} api")  # a person: it starts
    await chat.wait_for(asked, lambda r: r["text"].startswith("On it"))
