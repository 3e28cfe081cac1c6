"""The plan Shipmate shows is the plan it builds: copied from the "On it" message,
changed and sent back in the thread, it becomes exactly that next version (#30)."""

from __future__ import annotations

import html
import re

from testkit.chat import letters


async def test_the_plan_shown_changed_and_sent_back_is_the_next_version(chat, bot):
    name = f"kiln{letters()}"
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name} api: firings have peak temp")
    started = await chat.wait_for(ts, lambda r: r["text"].startswith("On it"))
    shown = html.unescape(re.search(r"```(.*?)```", started["text"], re.DOTALL).group(1))
    assert shown.startswith(f"service {name}-api\n")
    assert "Firing: peak_temp float" in shown
    card = await chat.card(ts, "waiting for approval")
    await chat.click("U0BOB", card["ts"], "approve")
    await chat.card(ts, "delivered")

    changed = shown.replace("peak_temp float", "peak_temp float, cone str in (low, mid, high)")
    await chat.say("U0ALICE", f"<@U0SHIPMATE> ```{html.escape(changed)}```", thread_ts=ts)
    said = await chat.wait_for(ts, lambda r: r["text"].startswith("Next version of"))
    assert f"*{name}-api*" in said["text"]
    assert "cone" in said["text"]
    card = await chat.card(ts, "v2")
    assert "waiting for approval" in card["text"]
