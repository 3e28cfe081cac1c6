"""History never crosses into another conversation (#29 item 9): "history of orders-api"
reads out what people asked for, and a request written in a private channel or a direct
message shows elsewhere only as "(asked in a private conversation)"."""

from __future__ import annotations

from testkit.chat import letters

PRIVATE = "(asked in a private conversation)"


async def history(chat, user: str, service: str, channel: str) -> str:
    asked = await chat.say(user, f"<@U0SHIPMATE> history of {service}", channel=channel)
    reply = await chat.wait_for(
        asked, lambda r: r["user"] == "U0SHIPMATE" and service in r["text"], channel=channel
    )
    return reply["text"]


async def started(chat, user: str, text: str, channel: str) -> None:
    asked = await chat.say(user, text, channel=channel)
    await chat.wait_for(asked, lambda r: r["text"].startswith("On it"), channel=channel)


async def test_a_request_from_a_private_channel_is_not_read_out_elsewhere(chat, bot, emulator):
    emulator.workspace.seed["channels"].append(
        {
            "id": "G0SECRET",
            "name": "acquisition",
            "is_private": True,
            "members": ["U0ALICE", "U0BOB", "U0SHIPMATE"],
        }
    )
    name = f"merger{letters()}"
    secret = f"build a {name} api: targets have codename and offer price"
    await started(chat, "U0ALICE", f"<@U0SHIPMATE> {secret}", "G0SECRET")

    elsewhere = await history(chat, "U0CAROL", f"{name}-api", "C0DEPLOYS")
    assert PRIVATE in elsewhere
    assert "codename" not in elsewhere and "offer price" not in elsewhere
    assert "<@U0ALICE>" in elsewhere  # who asked and what became of it still show

    where_it_was_said = await history(chat, "U0BOB", f"{name}-api", "G0SECRET")
    assert "codename" in where_it_was_said and PRIVATE not in where_it_was_said


async def test_a_request_from_a_direct_message_is_not_read_out_in_a_channel(chat, bot):
    name = f"diary{letters()}"
    await started(chat, "U0ALICE", f"build a {name} api: entries have mood", "D0ALICE")

    in_channel = await history(chat, "U0CAROL", f"{name}-api", "C0GENERAL")
    assert PRIVATE in in_channel and "mood" not in in_channel


async def test_a_request_from_a_public_channel_is_read_out_in_another(chat, bot):
    name = f"open{letters()}"
    await started(
        chat, "U0ALICE", f"<@U0SHIPMATE> build a {name} api: notes have body", "C0GENERAL"
    )

    other_channel = await history(chat, "U0CAROL", f"{name}-api", "C0DEPLOYS")
    assert "notes have body" in other_channel and PRIVATE not in other_channel
