"""Only people ask Shipmate for work: a mention posted by another app (a CI bot echoing
a pull request's title, an integration forwarding an alert) starts nothing; nor does
anything a person of another workspace (Slack Connect) says or clicks, unless
SHIPMATE_SLACK_ALLOWED_TEAMS names their team; and only developers ask for builds,
nobody by default."""

from __future__ import annotations

from shipmate import delivery_client, status_report
from shipmate.settings import Settings
from testkit.chat import letters, start_bot
from testkit.waiting import eventually
from tests.bot.test_bot_decisions import nothing_in_history
from workflows.models import GateState


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


# Slack Connect: people of another workspace share #general with Shipmate. Each test
# makes them developers and approvers too, so only their team can be why they are refused.
ZED = {"id": "U0ZED", "name": "zed", "real_name": "Zed", "team_id": "T0PARTNER"}
YAN = {"id": "U0YAN", "name": "yan", "real_name": "Yan", "team_id": "T0STRANGER"}
OTHER_TEAM = (
    ":no_entry: I only take requests from the people of this workspace and of its "
    "allowed partners, so nothing has started."
)


def seat(emulator, *people: dict) -> None:
    """Externals of a Slack Connect channel: members of #general, of their own team."""
    for person in people:
        emulator.workspace.seed["users"].append(person)
        emulator.workspace.channel("C0GENERAL")["members"].append(person["id"])


def trusting(slack_settings, **more):
    """The bot's settings: zed and yan may build and approve, were their team welcome."""
    everyone = ["U0ALICE", "U0BOB", "U0ZED", "U0YAN"]
    return slack_settings.model_copy(
        update={"developers": everyone, "approvers": ["U0BOB", "U0ZED"], **more}
    )


async def test_a_person_of_another_team_starts_nothing_and_is_told_privately(
    chat, slack_settings, emulator, scripted_worker, client
):
    seat(emulator, ZED)
    handler = await start_bot(trusting(slack_settings), emulator)
    scripted_worker.settings = trusting(slack_settings)
    try:
        name = f"shared{letters()}"
        asked = await chat.say("U0ZED", f"<@U0SHIPMATE> build a {name} api")
        await chat.command("U0ZED", f"build a {name} api")
        told = await eventually(lambda: _at_least(chat.ephemerals("U0ZED"), 2), what="zed told")
        await chat.caught_up()
        assert [m["text"] for m in told] == [OTHER_TEAM, OTHER_TEAM]  # one sentence, to zed
        assert {m["thread_ts"] for m in told} == {asked, None}  # the mention's in its thread
        assert await chat.thread(asked) == []  # nothing public: no answer, no "asked:"
        assert [m for m in await chat.messages() if "asked:" in m["text"]] == []
        assert (await status_report.gather(client, f"{name}-api")).services == []
        mention = (await chat.deliveries("app_mention"))[0]
        assert mention["acked"]  # acked at once, so Slack sends it no second time
    finally:
        await handler.close_async()


async def test_a_partner_team_once_allowed_is_served_and_no_other(
    chat, slack_settings, emulator, scripted_worker
):
    seat(emulator, ZED, YAN)
    allowed = scripted_worker.settings = trusting(slack_settings, slack_allowed_teams=["T0PARTNER"])
    handler = await start_bot(allowed, emulator)
    try:
        served = await chat.say("U0ZED", f"<@U0SHIPMATE> build a partner{letters()} api")
        await chat.wait_for(served, lambda r: r["text"].startswith("On it"))
        stranger = await chat.say("U0YAN", f"<@U0SHIPMATE> build a stranger{letters()} api")
        assert await chat.wait_for_ephemerals("U0YAN") == [OTHER_TEAM]
        await chat.caught_up()
        assert await chat.thread(stranger) == []
    finally:
        await handler.close_async()


async def test_a_click_from_another_team_decides_nothing(
    chat, slack_settings, emulator, scripted_worker, client
):
    seat(emulator, ZED)
    scripted_worker.settings = trusting(slack_settings)  # the worker's rules as the bot's
    handler = await start_bot(trusting(slack_settings), emulator)  # zed an approver, but
    try:
        ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a gated{letters()} api")
        on_it = await chat.wait_for(ts, lambda r: r["text"].startswith("On it"))
        delivery_id = on_it["text"].split("delivery `")[1].split("`")[0]
        card = await chat.card(ts, "waiting for approval")
        await chat.click("U0ZED", card["ts"], "approve")
        assert await chat.wait_for_ephemerals("U0ZED") == [OTHER_TEAM]
        await chat.caught_up()
        status = await delivery_client.delivery_status(client.get_workflow_handle(delivery_id))
        assert status.gates[0].state == GateState.open and status.audit == []
        await nothing_in_history(client, delivery_id)
    finally:
        await handler.close_async()


async def test_nobody_may_ask_for_builds_by_default_and_is_told_privately_how(
    chat, slack_settings, emulator, scripted_worker, client
):
    default = Settings.model_fields["developers"].get_default(call_default_factory=True)
    nobody = slack_settings.model_copy(update={"developers": default, "admins": ["U0BOB"]})
    handler = await start_bot(nobody, emulator)
    try:
        name = f"closed{letters()}"
        asked = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name} api")
        (refused,) = await chat.wait_for_ephemerals("U0ALICE")
        assert refused == (
            ":no_entry: <@U0ALICE> may not ask for builds or changes: only the people in "
            "SHIPMATE_DEVELOPERS may. Ask <@U0BOB> to add you."
        )
        await chat.caught_up()
        assert await chat.thread(asked) == []  # private: the channel sees no refusal
        assert (await status_report.gather(client, f"{name}-api")).services == []
    finally:
        await handler.close_async()


async def _at_least(found, n: int):
    items = await found
    return items if len(items) >= n else None
