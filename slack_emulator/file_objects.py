"""Slack's file objects: what files.info returns and what a message's `files` carries.

A stored file is Slack's object without its URLs (the emulator's address can change
between runs); `public` adds them for the address it serves now. Text files carry a
preview and their line count, as Slack shows a snippet; a snippet (code a person
pasted) has mode "snippet" and the language as its filetype, e.g. "python".
"""

from __future__ import annotations

import mimetypes
import time
from urllib.parse import quote

# Extensions Slack recognises, as (filetype, pretty_type); others are "binary".
FILETYPES = {
    "py": ("python", "Python"),
    "js": ("javascript", "JavaScript"),
    "ts": ("typescript", "TypeScript"),
    "json": ("json", "JSON"),
    "sarif": ("json", "JSON"),
    "md": ("markdown", "Markdown (raw)"),
    "txt": ("text", "Plain Text"),
    "log": ("text", "Plain Text"),
    "yaml": ("yaml", "YAML"),
    "yml": ("yaml", "YAML"),
    "toml": ("toml", "TOML"),
    "sql": ("sql", "SQL"),
    "sh": ("shell", "Shell"),
    "diff": ("diff", "Diff"),
    "patch": ("diff", "Diff"),
    "html": ("html", "HTML"),
    "css": ("css", "CSS"),
    "csv": ("csv", "CSV"),
    "go": ("go", "Go"),
    "rs": ("rust", "Rust"),
    "java": ("java", "Java"),
    "xml": ("xml", "XML"),
    "dockerfile": ("dockerfile", "Dockerfile"),
    "png": ("png", "PNG"),
    "jpg": ("jpg", "JPEG"),
    "jpeg": ("jpg", "JPEG"),
    "gif": ("gif", "GIF"),
    "svg": ("svg", "SVG"),
    "pdf": ("pdf", "PDF"),
    "zip": ("zip", "Zip"),
    "gz": ("gzip", "GZip"),
    "tar": ("tar", "Tar"),
}
BINARY_TYPES = {"png", "jpg", "gif", "pdf", "zip", "gzip", "tar", "binary"}
PRETTY = {filetype: pretty for filetype, pretty in FILETYPES.values()}
PREVIEW_LINES = 5
PREVIEW_CHARS = 1024


def kind_of(name: str, snippet_type: str | None = None) -> tuple[str, str, str]:
    """(filetype, pretty_type, mimetype) for a file's name, or a snippet's language."""
    if snippet_type:
        pretty = PRETTY.get(snippet_type, snippet_type.capitalize())
        return snippet_type, pretty, "text/plain"
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else name.lower()
    filetype, pretty = FILETYPES.get(extension, ("binary", "Binary"))
    mimetype = mimetypes.guess_type(name)[0]
    if mimetype is None:
        mimetype = "application/octet-stream" if filetype == "binary" else "text/plain"
    return filetype, pretty, mimetype


def as_text(data: bytes, filetype: str) -> str | None:
    """The file's text, or None when it is not text (an image, an archive, bytes)."""
    if filetype in BINARY_TYPES and filetype != "binary":
        return None
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def new_file(
    file_id: str,
    name: str,
    data: bytes,
    user: str,
    team: str,
    title: str | None = None,
    snippet_type: str | None = None,
) -> dict:
    """The stored object for bytes just uploaded by `user` (shares are added when shared)."""
    filetype, pretty, mimetype = kind_of(name, snippet_type)
    now = int(time.time())
    file = {
        "id": file_id,
        "created": now,
        "timestamp": now,
        "name": name,
        "title": title or name,
        "mimetype": mimetype,
        "filetype": filetype,
        "pretty_type": pretty,
        "user": user,
        "user_team": team,
        "editable": bool(snippet_type),
        "size": len(data),
        "mode": "snippet" if snippet_type else "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": False,
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "has_rich_preview": False,
        "file_access": "visible",
    }
    text = as_text(data, filetype)
    if text is not None:
        lines = text.splitlines()
        joined = "\n".join(lines[:PREVIEW_LINES])
        file.update(
            preview=joined[:PREVIEW_CHARS],
            lines=len(lines),
            lines_more=max(0, len(lines) - PREVIEW_LINES),
            preview_is_truncated=len(lines) > PREVIEW_LINES or len(joined) > PREVIEW_CHARS,
        )
    return file


def public(file: dict, base_url: str, team: str, with_shares: bool = True) -> dict:
    """The object as Slack returns it: with its URLs on this emulator; a message's copy
    has no shares or channel lists (`with_shares=False`)."""
    name = quote(file["name"], safe="")
    key = f"{team}-{file['id']}"
    urls = {
        "url_private": f"{base_url}/files-pri/{key}/{name}",
        "url_private_download": f"{base_url}/files-pri/{key}/download/{name}",
        "permalink": f"{base_url}/files/{file['user']}/{file['id']}/{name}",
        "permalink_public": f"{base_url}/{team}-{file['id']}-public",
    }
    if with_shares:
        shown = {"channels": [], "groups": [], "ims": [], **file}
    else:
        hidden = ("shares", "channels", "groups", "ims")
        shown = {k: v for k, v in file.items() if k not in hidden}
    return {**shown, **urls}


def add_share(file: dict, channel: dict, message: dict, team: str) -> None:
    """Record that `file` was shared into `channel` by `message` (files.info's shares)."""
    private = bool(channel.get("is_private") or channel.get("is_im"))
    where = "private" if private else "public"
    share = {
        "reply_users": [],
        "reply_users_count": 0,
        "reply_count": 0,
        "ts": message["ts"],
        "channel_name": channel["name"],
        "team_id": team,
    }
    if message.get("thread_ts"):
        share["thread_ts"] = message["thread_ts"]
    file.setdefault("shares", {}).setdefault(where, {}).setdefault(channel["id"], []).append(share)
    key = "ims" if channel.get("is_im") else "channels"
    listed = file.setdefault(key, [])
    if channel["id"] not in listed:
        listed.append(channel["id"])
    file["is_public"] = file["is_public"] or not private


def shared_in(file: dict) -> set[str]:
    """The channels `file` was shared into."""
    shares = file.get("shares") or {}
    return {channel for kind in shares.values() for channel in kind}
