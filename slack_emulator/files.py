"""Files as slack_sdk's `files_upload_v2` and a file-reading app use them.

- files.getUploadURLExternal (filename, length) reserves a file id and an upload URL on
  the emulator; the bytes are POSTed there (raw, or multipart as `curl -F`);
  files.completeUploadExternal (files=[{id, title}], channel_id, thread_ts,
  initial_comment) shares them into the channel or thread as one message from the bot.
- files.info (file) returns the file object; file_not_found for a file the bot cannot see.
- url_private / url_private_download serve the bytes only with `Authorization: Bearer`
  and the bot token (whose app has files:read); without it, as Slack, a redirect to the
  sign-in page, so a client that forgot the token sees HTML and not the file.
A file is at most `max_bytes` (Slack's file_upload_size_restricted, HTTP 413 on upload).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from slack_emulator.file_objects import add_share, new_file, public, shared_in
from slack_emulator.workspace import SlackError, Workspace

MAX_FILE_BYTES = 20 * 1024 * 1024
CHUNK = 64 * 1024
SIGN_IN = """<!doctype html><html><head><title>Sign in | Slack</title></head>
<body><h1>Sign in to {team}</h1><p>Enter your workspace's Slack URL to continue.</p>
</body></html>"""


@dataclass
class Pending:
    """A file reserved by files.getUploadURLExternal, until completeUploadExternal."""

    file_id: str
    name: str
    length: int
    snippet_type: str | None
    data: bytes | None = None


class Files:
    def __init__(self, workspace: Workspace, api, max_bytes: int = MAX_FILE_BYTES):
        self.ws = workspace
        self.api = api  # the WebApi: base_url, channels, grants, on_change
        self.max_bytes = max_bytes
        self.pending: dict[str, Pending] = {}  # upload ticket -> the reserved file
        self.tickets: dict[str, str] = {}  # file id -> its upload ticket

    def methods(self) -> dict:
        return {
            "files.getUploadURLExternal": self.get_upload_url,
            "files.completeUploadExternal": self.complete_upload,
            "files.info": self.info,
        }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/upload/v1/{ticket}", self.upload),
            web.get("/files-pri/{key}/download/{name}", self.download),
            web.get("/files-pri/{key}/{name}", self.download),
            web.get("/signin", self.sign_in),
        ]

    # What other parts read

    def object(self, file_id: str, with_shares: bool = True) -> dict:
        file = self.ws.files[file_id]
        return public(file, self.api.base_url, self.ws.team["id"], with_shares)

    def fresh(self, messages: list[dict]) -> list[dict]:
        """Messages whose files carry this run's URLs (the port may have changed)."""
        return [
            {**m, "files": [self._embedded(f) for f in m["files"]]} if m.get("files") else m
            for m in messages
        ]

    def _embedded(self, file: dict) -> dict:
        if file.get("id") in self.ws.files:
            return self.object(file["id"], with_shares=False)
        return file

    def visible_to_bot(self, file: dict) -> bool:
        if file["user"] == self.ws.bot["id"]:
            return True
        bot = self.ws.bot["id"]
        for channel_id in shared_in(file):
            try:
                if bot in self.ws.channel(channel_id)["members"]:
                    return True
            except SlackError:
                continue
        return False

    def create(
        self,
        user: str,
        name: str,
        data: bytes,
        title: str | None = None,
        snippet_type: str | None = None,
        file_id: str | None = None,
    ) -> dict:
        """A file of `user`'s, stored with its bytes (not yet shared anywhere)."""
        if len(data) > self.max_bytes:
            raise SlackError("file_upload_size_restricted", status=413)
        file = new_file(
            file_id or self.ws.next_id("F"),
            name,
            data,
            user,
            self.ws.team_of(user),
            title,
            snippet_type,
        )
        self.ws.save_file(file, data)
        return file

    def share(
        self,
        files: list[dict],
        channel: dict,
        user: str,
        text: str,
        thread_ts: str | None,
        upload: bool,
        broadcast: bool = False,
    ) -> dict:
        """One message from `user` carrying `files`; each file records the share."""
        embedded = [public(f, self.api.base_url, self.ws.team["id"], False) for f in files]
        extra = {"files": embedded, "upload": upload, "display_as_bot": False}
        message = self.ws.post(channel, user, text, None, thread_ts, broadcast, extra)
        for file in files:
            add_share(file, channel, message, self.ws.team["id"])
            self.ws.save_file(file)
        self.api.on_change(channel["id"])
        return message

    # Web API methods

    def get_upload_url(self, args: dict) -> dict:
        name = str(args.get("filename") or "")
        missing = [key for key in ("filename", "length") if not args.get(key)]
        if missing:
            errors = [f"missing required field: {key}" for key in missing]
            raise SlackError("invalid_arguments", errors=errors)
        try:
            length = int(args["length"])
        except (TypeError, ValueError):
            raise SlackError("invalid_arguments", errors=["length must be an integer"]) from None
        if length < 0:
            raise SlackError("invalid_arguments", errors=["length must be 0 or more"])
        if length > self.max_bytes:
            raise SlackError("file_upload_size_restricted")
        if len(str(args.get("alt_txt") or "")) > 1000:
            raise SlackError("alt_txt_too_large")
        ticket = secrets.token_urlsafe(24)
        file_id = self.ws.next_id("F")
        snippet_type = str(args.get("snippet_type") or "") or None
        self.pending[ticket] = Pending(file_id, name, length, snippet_type)
        self.tickets[file_id] = ticket
        return {"upload_url": f"{self.api.base_url}/upload/v1/{ticket}", "file_id": file_id}

    def complete_upload(self, args: dict) -> dict:
        wanted = _file_list(args.get("files"))
        uploads = []
        for entry in wanted:
            pending = self.pending.get(self.tickets.get(str(entry.get("id")), ""))
            if pending is None or pending.data is None:
                raise SlackError("file_not_found")
            uploads.append((pending, entry.get("title")))
        channels = self._targets(args)
        thread_ts = str(args.get("thread_ts") or "") or None
        if thread_ts and len(channels) > 1:
            raise SlackError("invalid_arguments", errors=["thread_ts takes only one channel"])
        for channel in channels:
            self.ws.require_member(channel, self.ws.bot["id"])
            if thread_ts:
                self.ws.find(channel["id"], thread_ts)  # message_not_found, before anything
        bot = self.ws.bot["id"]
        files = []
        for pending, title in uploads:
            ticket = self.tickets.pop(pending.file_id)
            del self.pending[ticket]
            data = pending.data or b""
            name, snippet = pending.name, pending.snippet_type
            files.append(self.create(bot, name, data, title, snippet, pending.file_id))
        text = str(args.get("initial_comment") or "")
        for channel in channels:
            self.share(files, channel, bot, text, thread_ts, upload=False)
        return {"files": [self.object(f["id"]) for f in files]}

    def _targets(self, args: dict) -> list[dict]:
        """The channels named by channel_id or channels (none: the files stay private)."""
        names = [str(args["channel_id"])] if args.get("channel_id") else []
        names += [c for c in str(args.get("channels") or "").split(",") if c.strip()]
        return [self.api._channel({"channel": name.strip()}) for name in dict.fromkeys(names)]

    def info(self, args: dict) -> dict:
        file = self.ws.files.get(str(args.get("file") or ""))
        if file is None or not self.visible_to_bot(file):
            raise SlackError("file_not_found")
        return {
            "file": self.object(file["id"]),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    # HTTP routes

    async def upload(self, request: web.Request) -> web.Response:
        """The upload URL: raw bytes, or the first file part of a multipart form."""
        pending = self.pending.get(request.match_info["ticket"])
        if pending is None:
            return web.Response(status=404, text="upload_url_not_found")
        reader = request.content
        if request.content_type == "multipart/form-data":
            form = await request.multipart()
            part = await form.next()
            while part is not None and not getattr(part, "filename", None):
                part = await form.next()
            if part is None:
                return web.Response(status=400, text="no file in the form")
            reader = part
        data = await read_limited(reader, self.max_bytes)
        if data is None:
            return web.Response(status=413, text="file_upload_size_restricted")
        pending.data = data
        return web.Response(text=f"OK - {len(data)}")

    async def download(self, request: web.Request) -> web.StreamResponse:
        team, _, file_id = request.match_info["key"].partition("-")
        file = self.ws.files.get(file_id)
        if not self._authorized(request):
            redirect = quote(request.path_qs, safe="")
            raise web.HTTPFound(f"/signin?redir={redirect}")
        if team != self.ws.team["id"] or file is None or not self.visible_to_bot(file):
            return web.Response(status=404, text="<html><body>File not found</body></html>")
        disposition = "attachment" if "/download/" in request.path else "inline"
        filename = quote(file["name"])
        headers = {"Content-Disposition": f"{disposition}; filename*=UTF-8''{filename}"}
        body = self.ws.file_bytes(file["id"])
        return web.Response(body=body, content_type=file["mimetype"], headers=headers)

    def _authorized(self, request: web.Request) -> bool:
        """Only the bot token, of an app granted files:read, may read a private URL."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or header[7:].strip() != self.ws.tokens["bot"]:
            return False
        try:
            self.api.grants.check_method("files.info")
        except SlackError:
            return False
        return True

    async def sign_in(self, request: web.Request) -> web.Response:
        page = SIGN_IN.format(team=self.ws.team["name"])
        return web.Response(text=page, content_type="text/html")


async def read_limited(reader, limit: int) -> bytes | None:
    """All of a stream (a request body or a multipart part), or None past `limit` bytes."""
    chunks, total = [], 0
    while True:
        if hasattr(reader, "read_chunk"):
            chunk = await reader.read_chunk(CHUNK)
        else:
            chunk = await reader.read(CHUNK)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)


def _file_list(value) -> list[dict]:
    """completeUploadExternal's `files`: a JSON array of {id, title} (a string in forms)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SlackError("invalid_arguments", errors=["files must be a JSON array"]) from None
    if not isinstance(value, list) or not value:
        raise SlackError("invalid_arguments", errors=["missing required field: files"])
    if not all(isinstance(entry, dict) and entry.get("id") for entry in value):
        raise SlackError("invalid_arguments", errors=["each file needs an id"])
    return value
