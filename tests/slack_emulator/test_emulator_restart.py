"""The emulator keeps its workspace in a file: a restart on the same file shows the same
channels, threads, reactions, ephemerals and views, hands out no id twice, and a file
torn mid-write is read back without its last change and without an error."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from playwright.async_api import expect
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator.server import EmulatorConfig, EmulatorServer
from slack_emulator.workspace import DEFAULT_SEED

BOT_TOKEN = DEFAULT_SEED["tokens"]["bot"]
HOME = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}


async def started(state: Path | None) -> EmulatorServer:
    return await EmulatorServer(EmulatorConfig(port=0, rate_limits=False, state=state)).start()


def web_api(emulator: EmulatorServer) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=f"{emulator.base_url}/api/")


async def channel_messages(emulator: EmulatorServer, channel: str = "C0GENERAL") -> list[dict]:
    async with httpx.AsyncClient() as web:
        url = f"{emulator.base_url}/_emulator/channels/{channel}/messages"
        return (await web.get(url)).json()["messages"]


async def say(emulator: EmulatorServer, user: str, text: str, thread_ts: str | None = None):
    async with httpx.AsyncClient() as web:
        body = {"user": user, "channel": "C0GENERAL", "text": text, "thread_ts": thread_ts}
        response = await web.post(f"{emulator.base_url}/_emulator/messages", json=body)
    return response.json()["ts"]


async def test_a_restart_on_the_same_file_keeps_the_workspace(tmp_path):
    state = tmp_path / "slack" / "workspace.jsonl"
    first = await started(state)
    slack = web_api(first)
    asked = await say(first, "U0ALICE", "<@U0SHIPMATE> build a todo api")
    card = await slack.chat_postMessage(channel="C0GENERAL", text="card v1", thread_ts=asked)
    await slack.chat_update(channel="C0GENERAL", ts=card["ts"], text="card v2")
    await slack.reactions_add(channel="C0GENERAL", timestamp=asked, name="eyes")
    await slack.chat_postEphemeral(channel="C0GENERAL", user="U0BOB", text="only bob")
    dm = (await slack.conversations_open(users="U0CAROL"))["channel"]["id"]
    await slack.chat_postMessage(channel=dm, text="hello carol")
    home = (await slack.views_publish(user_id="U0BOB", view=HOME))["view"]
    ids_before = {first.workspace.next_id("X") for _ in range(3)}
    before = await channel_messages(first)
    await first.stop()

    second = await started(state)
    try:
        after = await channel_messages(second)
        assert [m["text"] for m in after] == [m["text"] for m in before]
        (thread,) = after
        assert [r["text"] for r in thread["replies"]] == ["card v2"]
        assert thread["reactions"][0]["name"] == "eyes" and thread["reply_count"] == 1
        assert thread["before_restart"] and thread["replies"][0]["before_restart"]
        assert "before_restart" not in before[0]  # only what a restart read back says so
        assert second.workspace.ephemeral["U0BOB"][0]["text"] == "only bob"
        assert second.workspace.home_views["U0BOB"]["id"] == home["id"]
        assert [m["text"] for m in await channel_messages(second, dm)] == ["hello carol"]
        slack = web_api(second)

        # the thread goes on, a card in it is still edited, and no id or ts comes back
        again = await say(second, "U0ALICE", "add a note field", thread_ts=asked)
        await slack.chat_update(channel="C0GENERAL", ts=card["ts"], text="card v3")
        replies = (await channel_messages(second))[0]["replies"]
        assert [r["text"] for r in replies] == ["card v3", "add a note field"]
        assert "before_restart" not in replies[-1] and again > card["ts"]
        assert not ids_before & {second.workspace.next_id("X") for _ in range(3)}
    finally:
        await second.stop()


async def test_a_file_torn_mid_write_is_read_without_its_last_message(tmp_path):
    state = tmp_path / "workspace.jsonl"
    first = await started(state)
    for n in range(3):
        await web_api(first).chat_postMessage(channel="C0GENERAL", text=f"message {n}")
    await first.stop()
    whole = state.read_bytes()
    assert json.loads(whole.splitlines()[-1])["message"]["text"] == "message 2"
    state.write_bytes(whole[:-25])  # the crash came in the middle of the last line

    second = await started(state)
    try:
        assert [m["text"] for m in await channel_messages(second)] == ["message 0", "message 1"]
        await web_api(second).chat_postMessage(channel="C0GENERAL", text="after the crash")
    finally:
        await second.stop()
    third = await started(state)  # what came after the torn line is read back too
    try:
        texts = [m["text"] for m in await channel_messages(third)]
        assert texts == ["message 0", "message 1", "after the crash"]
    finally:
        await third.stop()


async def test_reset_empties_the_file_and_without_a_file_nothing_is_written(tmp_path, monkeypatch):
    state = tmp_path / "workspace.jsonl"
    first = await started(state)
    await web_api(first).chat_postMessage(channel="C0GENERAL", text="soon gone")
    async with httpx.AsyncClient() as web:
        await web.post(f"{first.base_url}/_emulator/reset")
    await first.stop()
    second = await started(state)
    try:
        assert await channel_messages(second) == []
    finally:
        await second.stop()

    elsewhere = tmp_path / "memory"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    memory = await started(None)
    try:
        await web_api(memory).chat_postMessage(channel="C0GENERAL", text="kept in memory")
        assert memory.workspace.store is None
    finally:
        await memory.stop()
    assert list(elsewhere.iterdir()) == []


async def test_a_long_journal_is_compacted_and_reads_back_the_same(tmp_path):
    state = tmp_path / "workspace.jsonl"
    first = await started(state)
    slack = web_api(first)
    posted = await slack.chat_postMessage(channel="C0GENERAL", text="edited many times")
    for _ in range(2100):  # past the journal's compaction threshold
        first.workspace.save_message("C0GENERAL", first.workspace.messages["C0GENERAL"][0])
    await slack.chat_update(channel="C0GENERAL", ts=posted["ts"], text="the last edit")
    await first.stop()
    assert len(state.read_text().splitlines()) < 200  # not 2100
    second = await started(state)
    try:
        assert [m["text"] for m in await channel_messages(second)] == ["the last edit"]
    finally:
        await second.stop()


async def test_the_page_marks_what_came_before_the_restart(page, tmp_path):
    state = tmp_path / "workspace.jsonl"
    first = await started(state)
    await web_api(first).chat_postMessage(channel="C0GENERAL", text="said yesterday")
    await first.stop()
    second = await started(state)
    try:
        await say(second, "U0ALICE", "said today")
        await page.goto(second.base_url + "/")
        messages = page.get_by_test_id("messages")
        await expect(messages).to_contain_text("said today")
        yesterday = messages.locator(".message", has_text="said yesterday")
        today = messages.locator(".message", has_text="said today")
        await expect(yesterday.get_by_test_id("before-restart")).to_have_count(1)
        await expect(today.get_by_test_id("before-restart")).to_have_count(0)
    finally:
        await second.stop()


async def test_the_pages_clear_button_forgets_the_workspace_for_good(page, tmp_path):
    state = tmp_path / "workspace.jsonl"
    first = await started(state)
    try:
        await say(first, "U0ALICE", "soon forgotten")
        await page.goto(first.base_url + "/")
        messages = page.get_by_test_id("messages")
        await expect(messages).to_contain_text("soon forgotten")
        page.once("dialog", lambda dialog: dialog.accept())
        await page.get_by_test_id("clear-workspace").click()
        await expect(messages).not_to_contain_text("soon forgotten")
    finally:
        await first.stop()
    second = await started(state)
    try:
        assert await channel_messages(second) == []
    finally:
        await second.stop()
