"""Files in the emulator as a Slack app and its people meet them: slack_sdk's own
files_upload_v2 shares files in a thread, files.info describes them, the private URL
hands the bytes only to the bot token, a person's file or snippet reaches the bot as a
file_share event, files outlive a restart, and bad input gets Slack's errors."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.async_api import expect
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator.grants import MANIFEST
from slack_emulator.server import EmulatorConfig, EmulatorServer
from slack_emulator.workspace import DEFAULT_SEED
from testkit.waiting import eventually

TOKENS = DEFAULT_SEED["tokens"]
REPORT = "# Review of orders-api\n\n- app.py:12 SQL built from a string\n- app.py:30 no auth\n"
BINARY = bytes(range(256)) * 4
SNIPPET = "def handler(event):\n    return db.execute(f'select * from t where id={event}')\n"


def manifest(tmp_path: Path, *, without: str) -> Path:
    """Shipmate's manifest without one of the bot's scopes (an app installed before it
    was asked for)."""
    data = yaml.safe_load(MANIFEST.read_text())
    bot = data["oauth_config"]["scopes"]["bot"]
    assert without in bot  # the app asks for it: the test removes what is really there
    bot.remove(without)
    path = tmp_path / f"manifest-without-{without.replace(':', '-')}.yml"
    path.write_text(yaml.safe_dump(data))
    return path


async def started(tmp_path: Path, state: Path | None = None, **config) -> EmulatorServer:
    return await EmulatorServer(
        EmulatorConfig(port=0, rate_limits=False, state=state, **config)
    ).start()


def bot_client(emulator: EmulatorServer) -> WebClient:
    """slack_sdk's sync client (files_upload_v2 as the worker calls it), run in a thread
    beside the emulator's loop."""
    return WebClient(token=TOKENS["bot"], base_url=f"{emulator.base_url}/api/")


async def call(method, /, **kwargs):
    return await asyncio.to_thread(method, **kwargs)


async def http_get(url: str, token: str | None = None, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient() as web:
        return await web.get(url, headers=headers, **kwargs)


async def control(emulator: EmulatorServer, path: str, body: dict | None = None) -> dict:
    async with httpx.AsyncClient() as web:
        url = f"{emulator.base_url}/_emulator/{path}"
        response = await (web.post(url, json=body) if body is not None else web.get(url))
    return response.json()


async def thread_of(emulator: EmulatorServer, ts: str) -> list[dict]:
    slack = bot_client(emulator)
    return (await call(slack.conversations_replies, channel="C0GENERAL", ts=ts))["messages"]


async def share_report(emulator: EmulatorServer) -> tuple[str, list[dict]]:
    """A person asks in #general; the bot answers in the thread with two files at once:
    one from a string (content=), one from bytes (file=)."""
    asked = await control(
        emulator, "messages", {"user": "U0ALICE", "channel": "C0GENERAL", "text": "review"}
    )
    done = await call(
        bot_client(emulator).files_upload_v2,
        channel="C0GENERAL",
        thread_ts=asked["ts"],
        initial_comment="The review is done: 2 findings.",
        file_uploads=[
            {"content": REPORT, "filename": "review.md", "title": "Review report"},
            {"file": BINARY, "filename": "graph.bin"},
        ],
    )
    return asked["ts"], done["files"]


async def test_files_upload_v2_shares_two_files_in_the_thread(tmp_path):
    emulator = await started(tmp_path)
    try:
        asked, files = await share_report(emulator)
        root, reply = await thread_of(emulator, asked)
        assert reply["user"] == "U0SHIPMATE" and reply["bot_id"] == "B0SHIPMATE"
        assert reply["text"] == "The review is done: 2 findings."
        assert [(f["name"], f["title"]) for f in reply["files"]] == [
            ("review.md", "Review report"),
            ("graph.bin", "graph.bin"),
        ]
        assert [f["id"] for f in reply["files"]] == [f["id"] for f in files]
        slack = bot_client(emulator)
        report = (await call(slack.files_info, file=files[0]["id"]))["file"]
        assert report["size"] == len(REPORT.encode()) and report["is_external"] is False
        assert (report["filetype"], report["mimetype"]) == ("markdown", "text/markdown")
        assert report["preview"].startswith("# Review of orders-api") and report["lines"] == 4
        assert report["shares"]["public"]["C0GENERAL"][0]["thread_ts"] == asked
        binary = (await call(slack.files_info, file=files[1]["id"]))["file"]
        assert binary["filetype"] == "binary" and "preview" not in binary
        for file, data in ((report, REPORT.encode()), (binary, BINARY)):
            got = await http_get(file["url_private_download"], TOKENS["bot"])
            assert got.status_code == 200 and got.content == data
            assert got.headers["Content-Disposition"].startswith("attachment")
            assert (await http_get(file["url_private"], TOKENS["bot"])).content == data

        # one file, from content= alone: slack_sdk's answer has it as `file` too
        single = await call(
            slack.files_upload_v2,
            channel="C0GENERAL",
            thread_ts=asked,
            content="print('hi')\n",
            filename="hi.py",
        )
        assert single["file"]["filetype"] == "python" and single["file"]["title"] == "hi.py"
        page = (await control(emulator, "channels/C0GENERAL/messages"))["messages"]
        assert [len(r.get("files", [])) for r in page[0]["replies"]] == [2, 1]
        assert root["reply_count"] == 1 and page[0]["reply_count"] == 2
    finally:
        await emulator.stop()


async def test_a_private_url_gives_the_file_only_to_the_bot_token(tmp_path):
    emulator = await started(tmp_path)
    try:
        _, files = await share_report(emulator)
        url = (await call(bot_client(emulator).files_info, file=files[0]["id"]))["file"][
            "url_private_download"
        ]
        for token in (None, "xoxb-not-the-token", TOKENS["app"]):
            refused = await http_get(url, token)
            assert refused.status_code == 302 and "/signin" in refused.headers["Location"]
            followed = await http_get(url, token, follow_redirects=True)
            assert followed.headers["content-type"].startswith("text/html")
            assert "Sign in" in followed.text and REPORT not in followed.text
        assert (await http_get(url, TOKENS["bot"])).text == REPORT
        assert (await http_get(url.replace("F0", "F9"), TOKENS["bot"])).status_code == 404
    finally:
        await emulator.stop()

    # an app whose manifest lacks files:read may neither describe nor read a file
    emulator = await started(tmp_path, manifest=manifest(tmp_path, without="files:read"))
    try:
        _, files = await share_report(emulator)
        with pytest.raises(SlackApiError) as refused:
            await call(bot_client(emulator).files_info, file=files[0]["id"])
        assert refused.value.response["error"] == "missing_scope"
        assert refused.value.response["needed"] == "files:read"
        url = files[0]["url_private_download"]
        assert (await http_get(url, TOKENS["bot"])).status_code == 302
    finally:
        await emulator.stop()


async def test_bad_input_gets_slacks_errors_and_the_emulator_keeps_running(tmp_path):
    emulator = await started(tmp_path, max_file_bytes=1000)
    slack = bot_client(emulator)

    async def error_of(method, **kwargs) -> dict:
        with pytest.raises(SlackApiError) as failed:
            await call(method, **kwargs)
        return failed.value.response.data

    try:
        assert await error_of(slack.files_info, file="F404") == {
            "ok": False,
            "error": "file_not_found",
        }
        too_big = await error_of(slack.files_getUploadURLExternal, filename="a.txt", length=1001)
        assert too_big["error"] == "file_upload_size_restricted"
        missing = await error_of(slack.api_call, api_method="files.getUploadURLExternal")
        assert missing["error"] == "invalid_arguments"
        assert (
            "[ERROR] missing required field: filename" in missing["response_metadata"]["messages"]
        )
        unknown = await error_of(slack.files_completeUploadExternal, files=[{"id": "F404"}])
        assert unknown["error"] == "file_not_found"

        # the declared length was fine, the bytes sent are not: the upload URL says 413
        reserved = await call(slack.files_getUploadURLExternal, filename="a.txt", length=10)
        async with httpx.AsyncClient() as web:
            sent = await web.post(reserved["upload_url"], content=b"x" * 1001)
            assert sent.status_code == 413
            assert (await web.post(f"{emulator.base_url}/upload/v1/nope", content=b"x")).is_error
        not_sent = await error_of(
            slack.files_completeUploadExternal, files=[{"id": reserved["file_id"]}]
        )
        assert not_sent["error"] == "file_not_found"

        for channel, error in (("C0NOWHERE", "channel_not_found"), ("C0RANDOM", "not_in_channel")):
            failed = await error_of(
                slack.files_upload_v2, channel=channel, content="x", filename="x.txt"
            )
            assert failed["error"] == error

        # still serving: a good upload goes through, and nothing failed was shared
        fine = await call(slack.files_upload_v2, channel="C0GENERAL", content="ok", filename="ok")
        assert fine["file"]["size"] == 2
        history = await call(slack.conversations_history, channel="C0GENERAL")
        assert [[f["name"] for f in m["files"]] for m in history["messages"]] == [["ok"]]
    finally:
        await emulator.stop()


async def test_files_outlive_a_restart_and_clear_workspace_forgets_them(tmp_path):
    state = tmp_path / "slack" / "workspace.jsonl"
    first = await started(tmp_path, state)
    asked, files = await share_report(first)
    shared = await control(
        first,
        "messages",
        {
            "user": "U0BOB",
            "channel": "C0GENERAL",
            "text": "and this one",
            "thread_ts": asked,
            "files": [{"name": "notes.txt", "content": "bob's notes\n"}],
        },
    )
    await first.stop()
    stored = sorted(p.name for p in (tmp_path / "slack" / "workspace.files").iterdir())
    assert stored == sorted([*(f["id"] for f in files), *shared["files"]])

    second = await started(tmp_path, state)
    try:
        replies = (await thread_of(second, asked))[1:]
        assert [[f["name"] for f in m["files"]] for m in replies] == [
            ["review.md", "graph.bin"],
            ["notes.txt"],
        ]
        for file, data in zip(replies[0]["files"], (REPORT.encode(), BINARY), strict=True):
            assert file["url_private"].startswith(second.base_url)  # this run's address
            assert (await http_get(file["url_private"], TOKENS["bot"])).content == data
        notes = (await call(bot_client(second).files_info, file=shared["files"][0]))["file"]
        assert (await http_get(notes["url_private"], TOKENS["bot"])).text == "bob's notes\n"
        fresh = await call(bot_client(second).files_upload_v2, content="new", filename="n.txt")
        assert fresh["file"]["id"] not in stored  # no id handed out twice

        await control(second, "reset", {})
        with pytest.raises(SlackApiError, match="file_not_found"):
            await call(bot_client(second).files_info, file=files[0]["id"])
        assert list((tmp_path / "slack" / "workspace.files").iterdir()) == []
    finally:
        await second.stop()
    third = await started(tmp_path, state)
    try:
        with pytest.raises(SlackApiError, match="file_not_found"):
            await call(bot_client(third).files_info, file=files[0]["id"])
    finally:
        await third.stop()


async def test_a_persons_file_and_snippet_reach_the_bot_as_a_file_share(tmp_path):
    emulator = await started(tmp_path)
    heard: list[dict] = []

    async def listener(client: SocketModeClient, request) -> None:
        await client.send_socket_mode_response(SocketModeResponse(request.envelope_id))
        if request.type == "events_api":
            heard.append(request.payload["event"])

    client = SocketModeClient(
        app_token=TOKENS["app"], web_client=AsyncWebClient(base_url=f"{emulator.base_url}/api/")
    )
    client.socket_mode_request_listeners.append(listener)
    await client.connect()
    try:
        await eventually(lambda: emulator.events.sockets, what="a socket connection")
        asked = await control(
            emulator, "messages", {"user": "U0ALICE", "channel": "C0GENERAL", "text": "hi"}
        )
        body = {
            "user": "U0ALICE",
            "channel": "C0GENERAL",
            "thread_ts": asked["ts"],
            "text": "<@U0SHIPMATE> can you look over this?",
            "files": [
                {"snippet_type": "python", "content": SNIPPET},
                {"name": "data.bin", "content_base64": base64.b64encode(BINARY).decode()},
            ],
        }
        shared = await control(emulator, "messages", body)
        assert shared["ok"] and len(shared["files"]) == 2
        await eventually(lambda: len(heard) >= 3, what="the message, the share and the mention")
        share = next(e for e in heard if e.get("subtype") == "file_share")
        assert share["type"] == "message" and share["thread_ts"] == asked["ts"]
        assert share["user"] == "U0ALICE" and share["upload"] is True
        snippet, data = share["files"]
        assert (snippet["name"], snippet["mode"], snippet["filetype"]) == (
            "Untitled",
            "snippet",
            "python",
        )
        assert data["name"] == "data.bin" and data["size"] == len(BINARY)
        mention = next(e for e in heard if e["type"] == "app_mention")
        assert [f["id"] for f in mention["files"]] == shared["files"]

        # the bot reads what it heard, with its token, as the worker will
        got = await http_get(snippet["url_private_download"], TOKENS["bot"])
        assert got.text == SNIPPET
        info = (await call(bot_client(emulator).files_info, file=snippet["id"]))["file"]
        assert info["preview"].startswith("def handler(event):") and info["lines"] == 2

        # the page's form: a file and a snippet as multipart, and its download link
        form = {"user": "U0BOB", "channel": "C0GENERAL", "text": "two more"}
        form |= {"snippet": "select 1;", "snippet_type": "sql"}
        async with httpx.AsyncClient() as web:
            sent = await web.post(
                f"{emulator.base_url}/_emulator/files",
                data=form,
                files={"file": ("schema.txt", b"create table t ();")},
            )
            ids = sent.json()["files"]
            page_link = f"{emulator.base_url}/_emulator/files/{ids[1]}/download"
            assert (await web.get(page_link)).text == "select 1;"
        await eventually(lambda: len(heard) >= 4, what="the form's file share")
        assert [f["name"] for f in heard[-1]["files"]] == ["schema.txt", "Untitled"]

        # a file shared where the bot is not a member: no event, and the bot cannot see it
        elsewhere = {**body, "channel": "C0RANDOM", "thread_ts": None, "text": "private"}
        hidden = await control(emulator, "messages", elsewhere)
        with pytest.raises(SlackApiError, match="file_not_found"):
            await call(bot_client(emulator).files_info, file=hidden["files"][0])
        refused = await control(emulator, "messages", {**body, "files": [{"name": "x"}]})
        assert refused["error"] == "invalid_arguments"
        await asyncio.sleep(0.2)
        assert len(heard) == 4
    finally:
        await client.close()
        await emulator.stop()


async def test_the_page_shows_files_and_a_person_attaches_a_file_and_a_snippet(page, tmp_path):
    emulator = await started(tmp_path)
    try:
        asked, _ = await share_report(emulator)
        await page.goto(emulator.base_url + "/")
        await page.get_by_test_id("messages").get_by_text("1 reply").click()
        thread = page.get_by_test_id("thread")
        await expect(thread.get_by_test_id("file")).to_have_count(2)
        await expect(thread).to_contain_text("Review report (review.md)")
        await expect(thread).to_contain_text("# Review of orders-api")  # the text's preview
        await expect(thread).to_contain_text("Binary · 1.0 KB")
        async with page.expect_download() as downloading:
            await thread.get_by_role("link", name="graph.bin").click()
        assert Path(await (await downloading.value).path()).read_bytes() == BINARY

        # a person attaches a file to a reply, then pastes code as a snippet
        attached = tmp_path / "client.py"
        attached.write_text(SNIPPET)
        await page.get_by_test_id("thread-attach").set_input_files(str(attached))
        await page.get_by_test_id("thread-text").fill("@shipmate can you look over this?")
        await page.get_by_test_id("thread-text").press("Enter")
        await expect(thread).to_contain_text("client.py")
        await page.get_by_test_id("thread-snippet-type").select_option("python")
        await page.get_by_test_id("thread-text").fill("print('pasted')")
        await page.get_by_test_id("thread-text").press("Enter")
        await expect(thread).to_contain_text("print('pasted')")
        await page.screenshot(path=str(tmp_path / "files.png"), full_page=True)
        replies = (await thread_of(emulator, asked))[2:]
        assert [(m["user"], m["text"]) for m in replies] == [
            ("U0ALICE", "<@U0SHIPMATE> can you look over this?"),
            ("U0ALICE", ""),
        ]
        assert [[(f["name"], f["filetype"], f["mode"]) for f in m["files"]] for m in replies] == [
            [("client.py", "python", "hosted")],
            [("Untitled", "python", "snippet")],
        ]
    finally:
        await emulator.stop()
