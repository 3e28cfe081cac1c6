"""A person's view of the emulator, and how a test connects a bot to it.

The Slack fixtures (emulator, bot, scripted worker, chat) are in conftest.py.
"""

from __future__ import annotations

import json
import random
import string

import httpx
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import TemporalLink, build_app
from slack_emulator.server import EmulatorServer
from slack_emulator.workspace import DEFAULT_SEED
from testkit.waiting import PATIENCE, eventually

TOKENS = DEFAULT_SEED["tokens"]


class Chat:
    """A person's view of the emulator: post, click, read the thread."""

    def __init__(self, emulator: EmulatorServer):
        self.base = emulator.base_url
        self.web = httpx.AsyncClient(timeout=10)

    async def say(
        self, user: str, text: str, thread_ts: str | None = None, channel: str = "C0GENERAL"
    ) -> str:
        body = {"user": user, "channel": channel, "text": text, "thread_ts": thread_ts}
        # ASCII JSON, so even a lone surrogate travels as Slack would send it: "\ud800"
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        url = f"{self.base}/_emulator/messages"
        response = (await self.web.post(url, content=raw, headers=headers)).json()
        assert response["ok"], response
        return response["ts"]

    async def caught_up(self, user: str = "U0CAROL") -> None:
        """A barrier before checking that nothing happened: a question asked after the
        events under test, in a channel of its own, and its answer. Slack delivers in
        order and every answer goes out through the same outbox, so once this one is
        posted the bot has handled what came before; a slow machine only waits longer,
        where a sleep would pass too early."""
        asked = await self.say(user, "<@U0SHIPMATE> what's running?", channel="C0DEPLOYS")
        await self.wait_for(asked, lambda r: r["user"] == "U0SHIPMATE", channel="C0DEPLOYS")

    async def messages(self, channel: str = "C0GENERAL") -> list[dict]:
        """The channel's top-level messages, each with its replies."""
        url = f"{self.base}/_emulator/channels/{channel}/messages"
        return (await self.web.get(url)).json().get("messages", [])

    async def thread(self, ts: str, channel: str = "C0GENERAL") -> list[dict]:
        parent = next(m for m in await self.messages(channel) if m["ts"] == ts)
        return parent["replies"]

    async def wait_for(self, ts: str, predicate, timeout: float = PATIENCE, channel="C0GENERAL"):
        """The newest reply in the thread that `predicate` accepts, once there is one."""
        seen: list[str] = []

        async def newest_match():
            replies = await self.thread(ts, channel)
            seen[:] = [r["text"] for r in replies]
            found = [r for r in replies if predicate(r)]
            return found[-1] if found else None

        try:
            return await eventually(newest_match, timeout=timeout, interval=0.2)
        except AssertionError:
            raise AssertionError(f"not seen in {timeout:.0f}s; thread has: {seen}") from None

    async def wait_for_ephemerals(self, user: str) -> list[str]:
        return await eventually(lambda: self.ephemeral(user), what=f"an ephemeral to {user}")

    async def card(self, ts: str, text: str, timeout: float = PATIENCE) -> dict:
        """The status card, once its fallback text says `text`."""
        return await self.wait_for(
            ts,
            lambda r: r.get("blocks") and r["blocks"][0]["type"] == "header" and text in r["text"],
            timeout,
        )

    async def click(
        self,
        user: str,
        message_ts: str,
        action_id: str,
        forged_value: str | None = None,
        channel: str = "C0GENERAL",
    ) -> dict:
        """`forged_value`: what a modified client could send instead of the button's value."""
        body = {
            "user": user,
            "channel": channel,
            "message_ts": message_ts,
            "action_id": action_id,
        }
        if forged_value is not None:
            body["value"] = forged_value
        return (await self.web.post(f"{self.base}/_emulator/actions", json=body)).json()

    async def click_in_view(self, user: str, view_id: str, action_id: str) -> dict:
        """A click on a button of `user`'s App Home or open modal."""
        body = {"user": user, "view_id": view_id, "action_id": action_id}
        return (await self.web.post(f"{self.base}/_emulator/actions", json=body)).json()

    async def modal(self, user: str) -> dict:
        """The modal open for `user`, once one is."""

        async def top():
            data = (await self.web.get(f"{self.base}/_emulator/modals/{user}")).json()
            return data["views"][-1] if data.get("views") else None

        return await eventually(top, what=f"a modal open for {user}")

    async def submit(self, user: str, view_id: str, values: dict) -> dict:
        """`values`: {block_id: {action_id: text}}, as typed into the modal's inputs."""
        url = f"{self.base}/_emulator/views/{view_id}/submit"
        return (await self.web.post(url, json={"user": user, "values": values})).json()

    async def home(self, user: str) -> dict | None:
        return (await self.web.get(f"{self.base}/_emulator/home/{user}")).json()["view"]

    async def command(self, user: str, text: str, channel: str = "C0GENERAL") -> None:
        """`/shipmate TEXT` typed by `user`."""
        body = {"user": user, "channel": channel, "command": "/shipmate", "text": text}
        response = (await self.web.post(f"{self.base}/_emulator/commands", json=body)).json()
        assert response["ok"], response

    async def top_level(self, text: str, channel: str = "C0GENERAL") -> dict:
        """The channel message saying `text`, once there is one."""

        async def found():
            return next((m for m in await self.messages(channel) if m["text"] == text), None)

        return await eventually(found, what=f"a message saying {text!r}")

    async def deliveries(self, event_type: str) -> list[dict]:
        """What the emulator delivered to the bot, with acks and attempts."""
        data = (await self.web.get(f"{self.base}/_emulator/deliveries")).json()
        return [d for d in data["deliveries"] if d["event_type"] == event_type]

    async def from_shipmate(self, channel: str = "C0GENERAL") -> list[dict]:
        """Every message the bot posted in the channel, replies included."""
        everything = [m for top in await self.messages(channel) for m in [top, *top["replies"]]]
        return [m for m in everything if m.get("user") == "U0SHIPMATE"]

    async def ephemeral(self, user: str) -> list[str]:
        return [m["text"] for m in await self.ephemerals(user)]

    async def ephemerals(self, user: str) -> list[dict]:
        """What only `user` sees, oldest first, with blocks and ts."""
        data = (await self.web.get(f"{self.base}/_emulator/ephemeral/{user}")).json()
        return data["messages"]


def letters() -> str:
    """A name part that pluralises plainly (no s, x, y or h at the end)."""
    return "".join(random.choices(string.ascii_lowercase, k=6)) + "n"


async def start_bot(settings, emulator) -> AsyncSocketModeHandler:
    handler = AsyncSocketModeHandler(
        build_app(settings, TemporalLink(settings)),
        TOKENS["app"],
        web_client=AsyncWebClient(base_url=f"{emulator.base_url}/api/"),
    )
    await handler.connect_async()
    await eventually(lambda: emulator.events.sockets, interval=0.05, what="the bot's socket")
    return handler


def actions(card: dict) -> list[str]:
    return [e["action_id"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
