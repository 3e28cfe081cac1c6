"""Files in Slack, for the worker: read one a person shared, and share files in a thread.

`download_file` asks files.info, then fetches the file's private URL with the bot token
(never to a host other than Slack's, or the configured Web API's). What no retry can
change is refused with `FileRefused`, whose message can be shown to the person: a file
too large, one Shipmate cannot see (file_not_found), or Slack's sign-in page instead of
the bytes (the token may not read files). Anything else (a 429, a dropped connection)
is raised as it is, for the activity's retry.

`upload_to_thread` shares files in one message (slack_sdk's files_upload_v2) exactly
once: a retried activity first reads the thread, and a file the bot already shared
there (same title and filename) is not uploaded again. Where the bot cannot share (not
in the channel, no such channel) it is a `FileRefused` too. The token is never logged.
"""

from __future__ import annotations

import logging
from urllib.parse import urlparse

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from shipmate.settings import Settings

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = 60.0
CHUNK = 64 * 1024
REFUSALS = {
    "file_not_found": "That file is gone, or Shipmate cannot see it (it was deleted, or "
    "shared where Shipmate is not a member).",
    "file_deleted": "That file was deleted.",
    "missing_scope": "Shipmate may not read files in this workspace: its Slack app needs "
    "the files:read permission (add it, then reinstall the app).",
    "not_in_channel": "Shipmate is not in that channel, so it cannot share files there.",
    "channel_not_found": "Shipmate cannot find that channel.",
    "invalid_auth": "Shipmate's Slack token was refused.",
    "file_upload_size_restricted": "That file is larger than this workspace lets apps upload.",
}


class FileRefused(Exception):
    """A file Shipmate will not read or share; the message says why, for a person."""


def _client(settings: Settings) -> WebClient:
    token = _token(settings)
    return WebClient(
        token=token,
        base_url=settings.slack_api_url or WebClient.BASE_URL,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2)],
    )


def _token(settings: Settings) -> str:
    if settings.slack_bot_token is None:
        raise FileRefused("Shipmate has no Slack bot token, so it cannot read or share files.")
    return settings.slack_bot_token.get_secret_value()


def _refusal(exc: SlackApiError) -> FileRefused | None:
    error = exc.response.get("error") if exc.response is not None else None
    reason = REFUSALS.get(str(error))
    return FileRefused(f"{reason} (Slack: {error})") if reason else None


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if count < 1024 or unit == "MB":
            return f"{count} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} bytes"  # pragma: no cover


def download_file(settings: Settings, file_id: str, max_bytes: int) -> tuple[str, bytes]:
    """(the file's name, its bytes), or FileRefused saying why not."""
    client = _client(settings)
    try:
        file = client.files_info(file=file_id)["file"]
    except SlackApiError as exc:
        refusal = _refusal(exc)
        if refusal is None:
            raise
        raise refusal from None
    name = str(file.get("name") or file_id)
    if file.get("is_external") or file.get("mode") in ("external", "tombstone"):
        raise FileRefused(f"{name} is not stored in Slack (an external file): it cannot be read.")
    size = int(file.get("size") or 0)
    if size > max_bytes:
        limit = _size(max_bytes)
        raise FileRefused(f"{name} is {_size(size)}; Shipmate reads files up to {limit}.")
    url = file.get("url_private_download") or file.get("url_private")
    if not url:
        raise FileRefused(f"Slack gives no address to download {name} from.")
    data = fetch_private(settings, url, max_bytes, name, str(file.get("mimetype") or ""))
    log.info("downloaded Slack file %s (%s, %d bytes)", file_id, name, len(data))
    return name, data


def fetch_private(
    settings: Settings, url: str, max_bytes: int, name: str = "the file", mimetype: str = ""
) -> bytes:
    """A file's private URL, read with the bot token; at most `max_bytes`."""
    _check_host(settings, url)
    headers = {"Authorization": f"Bearer {_token(settings)}"}
    with httpx.Client(timeout=DOWNLOAD_TIMEOUT, follow_redirects=False) as http:
        with http.stream("GET", url, headers=headers) as response:
            html = response.headers.get("content-type", "").startswith("text/html")
            if response.is_redirect or (html and not mimetype.startswith("text/html")):
                raise FileRefused(
                    f"Slack answered with its sign-in page instead of {name}: Shipmate's "
                    "token may not read files (the app needs the files:read permission)."
                )
            if response.status_code in (403, 404, 410):
                status = response.status_code
                raise FileRefused(f"Slack would not hand over {name} (HTTP {status}).")
            response.raise_for_status()
            chunks, total = [], 0
            for chunk in response.iter_bytes(CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    limit = _size(max_bytes)
                    raise FileRefused(f"{name} is over {limit}, more than Shipmate reads.")
                chunks.append(chunk)
    return b"".join(chunks)


def _check_host(settings: Settings, url: str) -> None:
    """The token goes only to Slack (or to the Web API configured, e.g. the emulator)."""
    where = urlparse(url)
    allowed = {urlparse(settings.slack_api_url).netloc} if settings.slack_api_url else set()
    host = where.hostname or ""
    if where.netloc in allowed or (
        where.scheme == "https" and (host == "slack.com" or host.endswith(".slack.com"))
    ):
        return
    raise FileRefused(f"The file's address is not on Slack ({where.netloc}); it was not fetched.")


def upload_to_thread(
    settings: Settings,
    channel: str,
    thread_ts: str | None,
    files: list[tuple[str, bytes, str]],
    comment: str | None = None,
) -> list[str]:
    """Share `files` ((filename, bytes, title) each) in the thread as one message with
    `comment`; the ids of all of them, in order, those shared before included."""
    client = _client(settings)
    try:
        me = client.auth_test()
        already = _shared_already(client, channel, thread_ts, me["user_id"], me.get("bot_id"))
        missing = [(n, d, t or n) for n, d, t in files if (t or n, n) not in already]
        ids_now: dict[tuple[str, str], str] = {}
        if missing:
            response = client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                initial_comment=comment if len(missing) == len(files) else None,
                file_uploads=[
                    {"filename": name, "content": data, "title": title}
                    for name, data, title in missing
                ],
            )
            shared = response.get("files") or []
            for (name, _, title), file in zip(missing, shared, strict=False):
                ids_now[(title, name)] = file["id"]
    except SlackApiError as exc:
        refusal = _refusal(exc)
        if refusal is None:
            raise
        raise refusal from None
    log.info(
        "shared %d file(s) in %s/%s, %d already there",
        len(missing),
        channel,
        thread_ts,
        len(files) - len(missing),
    )
    found = {**already, **ids_now}
    return [found[(title or name, name)] for name, _, title in files]


def _shared_already(
    client: WebClient, channel: str, thread_ts: str | None, user_id: str, bot_id: str | None
) -> dict[tuple[str, str], str]:
    """(title, filename) -> file id, for files the bot already shared in the thread (or,
    without a thread, among the channel's latest messages)."""
    found: dict[tuple[str, str], str] = {}
    cursor = None
    while True:
        if thread_ts:
            page = client.conversations_replies(channel=channel, ts=thread_ts, cursor=cursor)
        else:
            page = client.conversations_history(channel=channel, limit=200)
        for message in page.get("messages") or []:
            mine = message.get("user") == user_id or (bot_id and message.get("bot_id") == bot_id)
            if not mine:
                continue
            for file in message.get("files") or []:
                name = str(file.get("name") or "")
                found.setdefault((str(file.get("title") or name), name), file["id"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not thread_ts or not cursor:
            return found
