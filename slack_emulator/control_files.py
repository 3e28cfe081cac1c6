"""Control routes for files: a person shares files or a snippet; the page downloads one.

- POST /_emulator/messages {user, channel, text?, thread_ts?, files: [{name, content |
  content_base64, title?, snippet_type?}]}: the person's message with those files, as
  Slack posts a file share (`upload: true`, the files in `files`). A file with a
  `snippet_type` (e.g. "python") and no name is a snippet: pasted code, named "Untitled".
  The bot hears a `message` event with subtype `file_share` (and `app_mention` when the
  text mentions it). Answers {ok, ts, channel, files: [ids]}.
- POST /_emulator/files: the same as a multipart form (the page): fields user, channel,
  text, thread_ts, parts `file` (any number), or `snippet` with `snippet_type`.
- GET /_emulator/files/{file_id}/download: the bytes, for the page's link (the control
  API needs no token; Slack's own private URLs do).
"""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import quote

from aiohttp import web

from slack_emulator.control_views import error
from slack_emulator.files import Files, read_limited
from slack_emulator.workspace import SlackError, Workspace


class FileControl:
    def __init__(self, workspace: Workspace, files: Files, emit):
        self.ws, self.files = workspace, files
        self.emit = emit  # emit(channel, message): the events Slack sends for a message

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/_emulator/files", self.post_form),
            web.get("/_emulator/files/{file_id}/download", self.download),
        ]

    async def post_json(self, body: dict) -> web.Response:
        """/_emulator/messages with `files`."""
        try:
            uploads = [_from_json(entry) for entry in _entries(body.get("files"))]
        except SlackError as exc:
            return web.json_response(exc.body(), status=400)
        return self._share(body, uploads)

    async def post_form(self, request: web.Request) -> web.Response:
        if request.content_type != "multipart/form-data":
            return error(400, "send a multipart/form-data form (or JSON to /_emulator/messages)")
        fields: dict[str, str] = {}
        uploads: list[tuple[str, bytes, str | None, str | None]] = []
        form = await request.multipart()
        while (part := await form.next()) is not None:
            data = await read_limited(part, self.files.max_bytes)
            if data is None:
                return error(413, "file_upload_size_restricted")
            if getattr(part, "filename", None):
                uploads.append((part.filename, data, None, None))
            else:
                fields[part.name or ""] = data.decode(errors="replace")
        if fields.get("snippet"):
            snippet = fields["snippet"].encode()
            kind = fields.get("snippet_type") or "text"
            name = fields.get("snippet_name") or "Untitled"
            uploads.append((name, snippet, fields.get("snippet_title") or None, kind))
        if not uploads:
            return error(400, "attach a file or a snippet")
        return self._share(fields, uploads)

    def _share(self, body: dict, uploads: list) -> web.Response:
        try:
            user = self.ws.user(str(body.get("user") or ""))
            channel = self.ws.channel(str(body.get("channel") or ""))
        except SlackError as exc:
            return error(404, exc.code)
        if user["id"] not in channel["members"]:
            return error(403, f"{user['name']} is not in #{channel['name']}")
        text = str(body.get("text") or "")
        if len(text) > 40_000:
            return error(400, "msg_too_long")
        thread_ts = str(body.get("thread_ts") or "") or None
        broadcast = bool(thread_ts) and body.get("reply_broadcast") in (True, "true")
        if thread_ts:
            try:
                self.ws.find(channel["id"], thread_ts)
            except SlackError as exc:
                return error(404, exc.code)
        if any(len(data) > self.files.max_bytes for _, data, _, _ in uploads):
            return error(413, "file_upload_size_restricted")
        files = [
            self.files.create(user["id"], name, data, title, snippet_type)
            for name, data, title, snippet_type in uploads
        ]
        message = self.files.share(files, channel, user["id"], text, thread_ts, True, broadcast)
        self.emit(channel, message)
        ids = [f["id"] for f in files]
        return web.json_response(
            {"ok": True, "ts": message["ts"], "channel": channel["id"], "files": ids}
        )

    async def download(self, request: web.Request) -> web.Response:
        file = self.ws.files.get(request.match_info["file_id"])
        if file is None:
            return error(404, "file_not_found")
        name = quote(file["name"])
        headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{name}"}
        body = self.ws.file_bytes(file["id"])
        return web.Response(body=body, content_type=file["mimetype"], headers=headers)


def _entries(value) -> list[dict]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = None
    if not isinstance(value, list) or not value or not all(isinstance(e, dict) for e in value):
        raise SlackError("invalid_arguments", errors=["files must be a list of objects"])
    return value


def _from_json(entry: dict) -> tuple[str, bytes, str | None, str | None]:
    """(name, bytes, title, snippet_type) of one file in a control body."""
    snippet_type = str(entry.get("snippet_type") or "") or None
    name = str(entry.get("name") or ("Untitled" if snippet_type else ""))
    if not name:
        raise SlackError("invalid_arguments", errors=["each file needs a name"])
    if isinstance(entry.get("content"), str):
        data = entry["content"].encode()
    elif isinstance(entry.get("content_base64"), str):
        try:
            data = base64.b64decode(entry["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise SlackError("invalid_arguments", errors=["content_base64 is not base64"]) from None
    else:
        raise SlackError("invalid_arguments", errors=[f"{name}: give content or content_base64"])
    return name, data, str(entry.get("title") or "") or None, snippet_type
