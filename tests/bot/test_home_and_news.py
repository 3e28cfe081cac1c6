"""What a person sees outside the thread: their own deliveries in the App Home, and a
production roll back announced in the channel.

Through the emulator with the real bot, Temporal and a worker with scripted stages
(roles as under `shipmate dev`: alice builds, bob approves, carol only watches).
"""

from __future__ import annotations

from testkit.chat import Chat, letters
from testkit.waiting import eventually


async def home_sections(chat: Chat, user: str, naming: str, after: str = "") -> dict:
    """`user`'s App Home once opened and naming `naming` (with `after` on the same line,
    when given): the texts of its two parts, waiting on them and their recent deliveries.
    The tab is opened again while it does not show them yet, as a person would: a home
    rendered the instant before the delivery's end is not rendered again until the next
    open."""

    async def parts():
        await chat.web.post(f"{chat.base}/_emulator/home_opened", json={"user": user})
        view = await chat.home(user)
        if not view:
            return None
        part, found = "", {"waiting": [], "recent": []}
        for block in view["blocks"]:
            if block["type"] == "header":
                recent = block["text"]["text"] == "Your recent deliveries"
                part = "recent" if recent else "waiting"
            elif block["type"] == "section":
                found[part].append(block["text"]["text"])
        lines = [t for t in found["waiting"] + found["recent"] if naming in t and after in t]
        return found if lines else None

    return await eventually(parts, interval=1.0, what=f"{user}'s home naming {naming} {after}")


async def test_the_app_home_lists_the_persons_own_recent_deliveries(chat, bot):
    """alice's home lists what she asked for, with its state, its page in the Temporal
    UI and its thread; bob's lists it as waiting on him, not as his."""
    name = f"quill{letters()}"
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name} api")
    on_it = await chat.wait_for(ts, lambda r: r["text"].startswith("On it"))
    delivery_id = on_it["text"].split("delivery `")[1].split("`")[0]
    card = await chat.card(ts, "waiting for approval")

    alice = await home_sections(chat, "U0ALICE", name)
    (mine,) = [t for t in alice["recent"] if f"*{name}-api v1*" in t]
    assert ":raised_hand: waiting for approval" in mine
    assert f"/workflows/{delivery_id.replace('/', '%2F')}|{delivery_id}>" in mine
    assert "/archives/C0GENERAL/p" in mine and "|open the thread>" in mine
    assert not any(name in t for t in alice["waiting"])  # her own gate is not asked of her

    bob = await home_sections(chat, "U0BOB", name)
    assert any(name in t for t in bob["waiting"])
    assert not any(name in t for t in bob["recent"])  # bob did not ask for it

    await chat.click("U0BOB", card["ts"], "approve")
    await chat.card(ts, "delivered")
    alice = await home_sections(chat, "U0ALICE", name, after=":rocket: delivered")
    (mine,) = [t for t in alice["recent"] if f"*{name}-api v1*" in t]
    assert ":rocket: delivered" in mine


def live_in_prod(version: int):
    return lambda r: f"v{version} is live in *prod*" in r["text"]


async def test_a_roll_back_in_production_is_announced_in_the_channel(chat, bot):
    """Production's news reaches the channel by default: "rolled back" as well as "live"."""
    name = f"ledger{letters()}"
    ask = f"<@U0SHIPMATE> {name} api: entries have amount (decimal), deploy it to prod"
    ts = await chat.say("U0ALICE", ask)
    card = await chat.card(ts, "v1: waiting for approval")
    await chat.click("U0BOB", card["ts"], "approve")
    await chat.wait_for(ts, live_in_prod(1))
    await chat.say("U0ALICE", "also add a memo field to entries", thread_ts=ts)
    card = await chat.card(ts, "v2: waiting for approval")
    await chat.click("U0BOB", card["ts"], "approve")
    await chat.wait_for(ts, live_in_prod(2))

    await chat.say("U0ALICE", f"<@U0SHIPMATE> roll back {name}-api in prod", thread_ts=ts)
    card = await chat.card(ts, "roll back prod to v1: waiting")
    await chat.click("U0BOB", card["ts"], "approve_losing_data")  # v2's memo goes
    rewound = await chat.wait_for(ts, lambda r: "is rolled back to v1 in *prod*" in r["text"])
    said = f":rewind: {name}-api is rolled back to v1 in *prod* (from v2)"
    assert rewound["text"].startswith(said)
    assert rewound.get("subtype") == "thread_broadcast"
    in_channel = [m["text"] for m in await chat.messages() if m.get("broadcast")]
    assert rewound["text"] in in_channel
