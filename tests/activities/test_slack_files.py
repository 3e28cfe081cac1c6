"""The worker's side of files, against the Slack emulator over HTTP with the real
slack_sdk: a person's file is read with the bot token, what cannot be read is refused
in words a person understands, and files are shared in a thread exactly once, even when
the activity sharing them is retried. The token never reaches a log."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from pydantic import SecretStr

from activities.slack_files import FileRefused, download_file, fetch_private, upload_to_thread
from shipmate.settings import Settings
from slack_emulator.server import EmulatorConfig, EmulatorServer
from slack_emulator.workspace import DEFAULT_SEED
from tests.slack_emulator.test_emulator_files import manifest

TOKENS = DEFAULT_SEED["tokens"]
CODE = "import requests\n\ndef fetch(url):\n    return requests.get(url)\n"


@pytest.fixture()
async def emulator(tmp_path):
    server = await EmulatorServer(
        EmulatorConfig(port=0, rate_limits=False, max_file_bytes=64_000)
    ).start()
    yield server
    await server.stop()


def settings_for(emulator: EmulatorServer, token: str = TOKENS["bot"]) -> Settings:
    return Settings(slack_bot_token=SecretStr(token), slack_api_url=f"{emulator.base_url}/api/")


async def person_says(emulator: EmulatorServer, text: str, **extra) -> dict:
    body = {"user": "U0ALICE", "channel": "C0GENERAL", "text": text, **extra}
    async with httpx.AsyncClient() as web:
        return (await web.post(f"{emulator.base_url}/_emulator/messages", json=body)).json()


async def thread(emulator: EmulatorServer, ts: str) -> list[dict]:
    async with httpx.AsyncClient() as web:
        url = f"{emulator.base_url}/_emulator/channels/C0GENERAL/messages"
        messages = (await web.get(url)).json()["messages"]
    return next(m for m in messages if m["ts"] == ts)["replies"]


async def test_a_persons_file_is_read_and_what_cannot_be_read_is_refused(emulator):
    settings = settings_for(emulator)
    shared = await person_says(
        emulator,
        "<@U0SHIPMATE> can you look over this?",
        files=[{"name": "client.py", "content": CODE}, {"snippet_type": "python", "content": "x"}],
    )
    name, data = await asyncio.to_thread(download_file, settings, shared["files"][0], 10_000)
    assert (name, data) == ("client.py", CODE.encode())
    assert await asyncio.to_thread(download_file, settings, shared["files"][1], 10) == (
        "Untitled",
        b"x",
    )

    refusals = {
        "too large": (settings, shared["files"][0], 20),
        "unknown": (settings, "F0NOTHERE", 10_000),
        "wrong token": (settings_for(emulator, TOKENS["app"]), shared["files"][0], 10_000),
    }
    said = {}
    for case, args in refusals.items():
        with pytest.raises(FileRefused) as refused:
            await asyncio.to_thread(download_file, *args)
        said[case] = str(refused.value)
    too_large = f"client.py is {len(CODE)} bytes; Shipmate reads files up to 20 bytes."
    assert said["too large"] == too_large
    assert "cannot see it" in said["unknown"] and "file_not_found" in said["unknown"]
    assert "token was refused" in said["wrong token"]

    # the private URL with a token that is not the bot's: Slack's sign-in page, refused
    hidden = settings_for(emulator, "xoxb-someone-else")
    url = f"{emulator.base_url}/files-pri/T0SHIPMATE-{shared['files'][0]}/download/client.py"
    with pytest.raises(FileRefused, match="sign-in page instead of client.py"):
        await asyncio.to_thread(fetch_private, hidden, url, 10_000, "client.py")
    # …and the token is never sent to an address that is not Slack's
    with pytest.raises(FileRefused, match="not on Slack"):
        await asyncio.to_thread(fetch_private, settings, "https://evil.example/f", 10)
    # …and bytes past the limit are not read, whatever files.info said
    with pytest.raises(FileRefused, match="more than Shipmate reads"):
        await asyncio.to_thread(fetch_private, settings, url, 10, "client.py")


async def test_an_app_without_files_read_is_refused_with_the_fix(tmp_path):
    no_read = manifest(tmp_path, without="files:read")
    server = await EmulatorServer(
        EmulatorConfig(port=0, rate_limits=False, manifest=no_read)
    ).start()
    try:
        shared = await person_says(server, "here", files=[{"name": "a.py", "content": "x = 1"}])
        with pytest.raises(FileRefused, match="needs the files:read permission"):
            await asyncio.to_thread(download_file, settings_for(server), shared["files"][0], 100)
    finally:
        await server.stop()


async def test_files_are_shared_in_the_thread_once_even_when_retried(emulator, caplog):
    caplog.set_level(logging.DEBUG)
    settings = settings_for(emulator)
    asked = await person_says(emulator, "<@U0SHIPMATE> review orders-api")
    report = [
        ("review.md", b"# 3 findings\n", "Review of orders-api"),
        ("review.sarif", b'{"version": "2.1.0"}', "SARIF"),
    ]
    first = await asyncio.to_thread(
        upload_to_thread, settings, "C0GENERAL", asked["ts"], report, "The review is done."
    )
    replies = await thread(emulator, asked["ts"])
    assert [r["text"] for r in replies] == ["The review is done."]
    assert [(f["name"], f["title"]) for f in replies[0]["files"]] == [
        ("review.md", "Review of orders-api"),
        ("review.sarif", "SARIF"),
    ]
    assert [f["id"] for f in replies[0]["files"]] == first

    # the activity is retried: nothing new in the thread, the same ids
    again = await asyncio.to_thread(
        upload_to_thread, settings, "C0GENERAL", asked["ts"], report, "The review is done."
    )
    assert again == first and len(await thread(emulator, asked["ts"])) == 1

    # one more file beside the two: only it is shared, and the comment is not said twice
    patch = ("fixes.patch", b"--- a/app.py\n+++ b/app.py\n", "Fixes")
    more = await asyncio.to_thread(
        upload_to_thread, settings, "C0GENERAL", asked["ts"], [*report, patch], "Done."
    )
    assert more[:2] == first and more[2] not in first
    replies = await thread(emulator, asked["ts"])
    assert [(r["text"], [f["name"] for f in r["files"]]) for r in replies] == [
        ("The review is done.", ["review.md", "review.sarif"]),
        ("", ["fixes.patch"]),
    ]
    async with httpx.AsyncClient() as web:
        link = f"{emulator.base_url}/_emulator/files/{more[2]}/download"
        assert (await web.get(link)).content == patch[1]

    # a person's file with the same name and title is not the bot's: the bot shares its own
    await person_says(
        emulator, "mine", thread_ts=asked["ts"], files=[{"name": "notes.md", "content": "n"}]
    )
    notes = await asyncio.to_thread(
        upload_to_thread, settings, "C0GENERAL", asked["ts"], [("notes.md", b"b", "notes.md")]
    )
    assert notes[0] != (await thread(emulator, asked["ts"]))[-2]["files"][0]["id"]

    with pytest.raises(FileRefused, match="not in that channel"):
        await asyncio.to_thread(upload_to_thread, settings, "C0RANDOM", None, report[:1])
    with pytest.raises(FileRefused, match="cannot find that channel"):
        await asyncio.to_thread(upload_to_thread, settings, "C0NOWHERE", None, report[:1])
    assert "files.completeUploadExternal" in caplog.text  # the calls were logged…
    assert TOKENS["bot"] not in caplog.text and "xoxb-" not in caplog.text  # …never the token
