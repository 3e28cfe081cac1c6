"""Slack under load, with the emulator's rate limits on: `python -m benchmarks.slack_load`.

- 20 people ask "@shipmate what's deployed?" at once in one channel: how many are
  answered, how soon each request gets its :eyes: reaction, how soon its reply;
- N deliveries at once across two channels, each approved by a click: how many go
  live, how many of the replies each should have are missing, how many are doubled.

It runs a Temporal dev server and the emulator (each a process of its own, as under
`shipmate dev`), the bot and a worker whose stages are the
tests' scripted stand-ins (Docker builds would measure Docker, not Slack); the notify
activity, the outbox and every Slack call are the real ones. Figures are printed,
never asserted.
"""

from __future__ import annotations

import asyncio
import random
import string
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

from pydantic import SecretStr
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import TemporalLink, build_app
from cli import devstack
from cli.identity import DEV_DEVELOPERS
from shipmate.settings import Settings
from shipmate.temporal import connect
from testkit.chat import TOKENS, Chat
from testkit.fake_stages import Script, worker_with_slack

CHANNELS = ("C0GENERAL", "C0DEPLOYS")


def name() -> str:
    """A service name the parser reads as one plain noun: letters only, ending in n."""
    return "load" + "".join(random.choices(string.ascii_lowercase, k=6)) + "n"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def _poll(check, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(interval)
    return None


async def questions(chat: Chat, n: int = 20) -> None:
    started = time.monotonic()
    asked = await asyncio.gather(
        *(chat.say("U0CAROL", "<@U0SHIPMATE> what's deployed?") for _ in range(n))
    )
    seen_at: dict[str, float] = {}
    reply_at: dict[str, float] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(reply_at) < n:
        whispered = {m.get("thread_ts") for m in await chat.ephemerals("U0CAROL")}
        for message in await chat.messages():
            if message["ts"] not in asked:
                continue
            now = time.monotonic() - started
            seen = message.get("reactions") or message["ts"] in whispered
            if seen and message["ts"] not in seen_at:
                seen_at[message["ts"]] = now
            if message["replies"] and message["ts"] not in reply_at:
                reply_at[message["ts"]] = now
        await asyncio.sleep(0.1)
    doubled = sum(1 for m in await chat.messages() if m["ts"] in asked and len(m["replies"]) > 1)
    seen, replies = list(seen_at.values()), list(reply_at.values())
    print(
        f"{n} questions at once in one channel: answered {len(replies)}/{n}, doubled {doubled}; "
        f"seen (reaction or a private word) {len(seen)}/{n}, p50 {percentile(seen, 0.5):.1f} s "
        f"p99 {percentile(seen, 0.99):.1f} s; "
        f"reply p50 {percentile(replies, 0.5):.1f} s p99 {percentile(replies, 0.99):.1f} s"
    )


EXPECTED = ("On it", "is ready for", "approved staging", "is live in")


def tally(threads: dict[str, list[dict]], asked: list[str]) -> tuple[int, int]:
    """Replies each delivery's thread should have and lacks, and replies said twice."""
    missing = doubled = 0
    for ts in asked:
        texts = [r["text"] for r in threads.get(ts, [])]
        counts = Counter(next((e for e in EXPECTED if e in t), t) for t in texts)
        missing += sum(1 for e in EXPECTED if counts[e] == 0)
        doubled += sum(c - 1 for c in counts.values() if c > 1)
    return missing, doubled


async def deliveries(chat: Chat, n: int) -> None:
    started = time.monotonic()
    threads = await asyncio.gather(
        *(
            chat.say(
                "U0ALICE",
                f"<@U0SHIPMATE> build a {name()} api",
                channel=CHANNELS[i % 2],
            )
            for i in range(n)
        )
    )
    where = {ts: CHANNELS[i % 2] for i, ts in enumerate(threads)}

    seen: dict[str, float] = {}

    async def replies() -> dict[str, list[dict]]:
        """Each request's thread, reading each channel once; notes when each was seen."""
        found = {}
        whispered = {m.get("thread_ts") for m in await chat.ephemerals("U0ALICE")}
        for channel in CHANNELS:
            for top in await chat.messages(channel):
                if top["ts"] in where:
                    found[top["ts"]] = top["replies"]
                    if (top.get("reactions") or top["ts"] in whispered) and top["ts"] not in seen:
                        seen[top["ts"]] = time.monotonic() - started
        return found

    clicked: set[str] = set()
    live: dict[str, float] = {}
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and len(live) < n:
        for ts, thread in (await replies()).items():
            for reply in thread:
                blocks = reply.get("blocks") or []
                waiting = any(
                    e.get("action_id") == "approve"
                    for b in blocks
                    if b.get("type") == "actions"
                    for e in b.get("elements", [])
                )
                if waiting and ts not in clicked:
                    clicked.add(ts)
                    body = {
                        "user": "U0BOB",
                        "channel": where[ts],
                        "message_ts": reply["ts"],
                        "action_id": "approve",
                    }
                    await chat.web.post(f"{chat.base}/_emulator/actions", json=body)
                if "is live in" in reply["text"] and ts not in live:
                    live[ts] = time.monotonic() - started
        await asyncio.sleep(0.3)
    missing, doubled = tally(await replies(), threads)
    times, seen_times = list(live.values()), list(seen.values())
    print(
        f"{n} deliveries at once across two channels: live {len(live)}/{n}, replies missing "
        f"{missing}, doubled {doubled}; seen {len(seen)}/{n} p99 "
        f"{percentile(seen_times, 0.99):.1f} s; live after p50 {percentile(times, 0.5):.0f} s, "
        f"p99 {percentile(times, 0.99):.0f} s"
    )


async def main(n: int = 30) -> None:
    with tempfile.TemporaryDirectory() as state, devstack.LocalStack() as stack:
        port, ui, slack_port = devstack.free_port(), devstack.free_port(), devstack.free_port()
        stack.start(devstack.temporal_part(Path(state), port, ui))
        # The emulator in a process of its own (rate limits on), as under `shipmate dev`.
        stack.start(devstack.emulator_part(slack_port))
        emulator = SimpleNamespace(base_url=f"http://127.0.0.1:{slack_port}")
        settings = Settings(
            temporal_address=f"127.0.0.1:{port}",
            temporal_ui_port=ui,
            task_queue="load",
            developers=list(DEV_DEVELOPERS),  # as under `shipmate dev`
            slack_bot_token=SecretStr(TOKENS["bot"]),
            slack_app_token=SecretStr(TOKENS["app"]),
            slack_api_url=f"{emulator.base_url}/api/",
            state_dir=Path(state),
        )
        client = await connect(settings)
        script = Script()
        with ThreadPoolExecutor(max_workers=8) as executor:
            async with worker_with_slack(client, settings, script, executor):
                handler = AsyncSocketModeHandler(
                    build_app(settings, TemporalLink(settings)),
                    TOKENS["app"],
                    web_client=AsyncWebClient(base_url=settings.slack_api_url),
                )
                await handler.connect_async()
                chat = Chat(emulator)
                await questions(chat)
                await deliveries(chat, n)
                await handler.close_async()


if __name__ == "__main__":
    import logging

    logging.disable(logging.WARNING)
    asyncio.run(main())
