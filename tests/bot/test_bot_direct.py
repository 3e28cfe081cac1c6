"""A request in a direct message, and `/shipmate` with nothing after it: the two ways
in that need no channel and no mention."""

from __future__ import annotations

from bot.intents import HELP
from testkit.chat import letters


async def test_a_request_in_a_direct_message_becomes_a_delivery_there(chat, bot):
    name = f"kiln{letters()}"
    asked = await chat.say("U0ALICE", f"build a {name} api", channel="D0ALICE")  # no mention
    started = await chat.wait_for(asked, lambda r: r["text"].startswith("On it"), channel="D0ALICE")
    assert f"*{name}-api*" in started["text"]
    card = await chat.wait_for(
        asked, lambda r: "waiting for approval" in r["text"], channel="D0ALICE"
    )
    assert card["user"] == "U0SHIPMATE"
    assert [m for m in await chat.messages() if name in m["text"]] == []  # nothing in public


async def test_the_slash_command_alone_answers_with_help(chat, bot):
    await chat.command("U0CAROL", "")
    request = await chat.top_level("<@U0CAROL> asked: help")
    answer = await chat.wait_for(request["ts"], lambda r: r["user"] == "U0SHIPMATE")
    assert answer["text"] == HELP
