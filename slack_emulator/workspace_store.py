"""The workspace on disk: an append-only journal of JSON lines, replayed on start.

Each change is one line written whole (and synced), so a crash mid-write leaves at most
a torn last line, which replay drops: the last change is lost, never the rest. The
journal is compacted to a snapshot (write a temporary file, sync, rename) on start and
whenever it has grown well past what it describes. Ids are leased in blocks, so an id
handed out before a restart is never handed out again. A file's bytes go to a directory
beside the journal (`workspace.jsonl` -> `workspace.files/F…`), written whole before its
object is journaled; compaction removes the bytes of files the workspace no longer has.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ID_LEASE = 1000
COMPACT_MIN_LINES = 2000


class Journal:
    """JSON lines appended whole; replay tolerates a torn last line and cuts it off."""

    def __init__(self, path: Path):
        self.path = path
        self.lines = 0
        self._file = None

    def replay(self) -> list[dict]:
        """Every whole record; a torn tail is cut from the file so appends start clean."""
        if not self.path.exists():
            return []
        raw = self.path.read_bytes()
        records, good_end, offset = [], 0, 0
        for line in raw.splitlines(keepends=True):
            offset += len(line)
            try:
                record = json.loads(line) if line.endswith(b"\n") else None
            except ValueError:
                record = None
            if isinstance(record, dict):
                records.append(record)
                good_end = offset
            elif line.strip():
                log.warning("%s: dropped a torn or unreadable record at byte %d", self.path, offset)
        if good_end < len(raw):
            with self.path.open("r+b") as file:
                file.truncate(good_end)
        self.lines = len(records)
        return records

    def append(self, record: dict) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("ab")
        self._file.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
        self._file.flush()
        os.fdatasync(self._file.fileno())
        self.lines += 1

    def rewrite(self, records: list[dict]) -> None:
        """Replace the journal by `records` at once: write a temporary file, then rename."""
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("wb") as file:
            for record in records:
                file.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self.lines = len(records)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class WorkspaceStore:
    """Keeps one Workspace in a journal: read back by `attach`, then a record per change."""

    def __init__(self, path: Path):
        self.journal = Journal(path)
        self.files_dir = path.with_name(path.stem + ".files")
        self.ws: Any = None  # the Workspace (which imports this module)
        self.leased = 0  # ids below this may have been handed out

    def attach(self, ws: Any) -> None:
        """Replay the journal into `ws`, compact it, and record every change from now."""
        self.ws = ws
        for record in self.journal.replay():
            self._apply(record)
        for file_id in [f for f in ws.files if not (self.files_dir / f).is_file()]:
            log.warning("%s: the bytes of file %s are missing; it is dropped", self.path, file_id)
            del ws.files[file_id]
        ws.restored_until = ws._last_ts if ws.messages else None
        ws._next_id = max(ws._next_id, self.leased)
        self.compact()
        ws.store = self

    # Records written as the workspace changes

    def message(self, channel_id: str, message: dict) -> None:
        self._write({"op": "message", "channel": channel_id, "message": message})

    def deleted(self, channel_id: str, ts: str) -> None:
        self._write({"op": "delete", "channel": channel_id, "ts": ts})

    def channel(self, channel: dict) -> None:
        self._write({"op": "channel", "channel": channel})

    def ephemeral(self, user: str) -> None:
        self._write({"op": "ephemeral", "user": user, "messages": self.ws.ephemeral.get(user, [])})

    def views(self, user: str) -> None:
        ws = self.ws
        home, modals = ws.home_views.get(user), ws.modals.get(user, [])
        self._write({"op": "views", "user": user, "home": home, "modals": modals})

    def file(self, file: dict, data: bytes | None) -> None:
        if data is not None:
            _write_whole(self.files_dir / file["id"], data)
        self._write({"op": "file", "file": file})

    def file_bytes(self, file_id: str) -> bytes:
        return (self.files_dir / file_id).read_bytes()

    @property
    def path(self) -> Path:
        return self.journal.path

    def lease_ids(self, next_id: int) -> None:
        """Called before an id at or past the lease is handed out."""
        self.leased = next_id + ID_LEASE
        self._write({"op": "ids", "upto": self.leased, "last_ts": self.ws._last_ts})

    def reset(self) -> None:
        self.compact()

    def _write(self, record: dict) -> None:
        self.journal.append(record)
        if self.journal.lines > max(COMPACT_MIN_LINES, 4 * self._size()):
            self.compact()

    def _size(self) -> int:
        ws = self.ws
        messages = sum(len(m) for m in ws.messages.values())
        return messages + len(ws.channels()) + len(ws.ephemeral) + len(ws.files)

    def compact(self) -> None:
        """The journal becomes a snapshot of what the workspace holds now."""
        ws = self.ws
        self.leased = max(self.leased, ws._next_id + ID_LEASE)
        records = [{"op": "ids", "upto": self.leased, "last_ts": ws._last_ts}]
        records += [{"op": "channel", "channel": c} for c in ws.channels()]
        for channel_id, messages in ws.messages.items():
            records += [{"op": "message", "channel": channel_id, "message": m} for m in messages]
        records += [{"op": "ephemeral", "user": u, "messages": m} for u, m in ws.ephemeral.items()]
        for user in {*ws.home_views, *ws.modals}:
            home, modals = ws.home_views.get(user), ws.modals.get(user, [])
            records.append({"op": "views", "user": user, "home": home, "modals": modals})
        records += [{"op": "file", "file": f} for f in ws.files.values()]
        self.journal.rewrite(records)
        if self.files_dir.is_dir():  # bytes of files forgotten (a reset) or never journaled
            for stored in self.files_dir.iterdir():
                if stored.name not in ws.files:
                    stored.unlink(missing_ok=True)

    def close(self) -> None:
        self.journal.close()

    # Replay

    def _apply(self, record: dict) -> None:
        ws, op = self.ws, record.get("op")
        if op == "message":
            message = record["message"]
            messages = ws.messages.setdefault(record["channel"], [])
            at = next((i for i, m in enumerate(messages) if m["ts"] == message["ts"]), None)
            if at is None:
                messages.append(message)
            else:
                messages[at] = message
            self._clock(message["ts"], (message.get("edited") or {}).get("ts"))
        elif op == "delete":
            messages = ws.messages.get(record["channel"], [])
            ws.messages[record["channel"]] = [m for m in messages if m["ts"] != record["ts"]]
        elif op == "channel":
            channel = record["channel"]
            channels = ws.seed["channels"]
            at = next((i for i, c in enumerate(channels) if c["id"] == channel["id"]), None)
            if at is None:
                channels.append(channel)
            else:
                channels[at] = channel
        elif op == "ephemeral":
            ws.ephemeral[record["user"]] = record["messages"]
            self._clock(*(m.get("ts") for m in record["messages"]))
        elif op == "views":
            user = record["user"]
            ws.home_views.pop(user, None)
            if record.get("home"):
                ws.home_views[user] = record["home"]
            ws.modals[user] = record.get("modals") or []
        elif op == "file":
            ws.files[record["file"]["id"]] = record["file"]
        elif op == "ids":
            self.leased = max(self.leased, int(record["upto"]))
            self._clock(record.get("last_ts"))
        elif op == "reset":
            ws.reset()

    def _clock(self, *stamps) -> None:
        """Timestamps go on from the newest one seen, even if the machine's clock went back."""
        for stamp in stamps:
            if stamp:
                self.ws._last_ts = max(self.ws._last_ts, float(stamp))


def _write_whole(path: Path, data: bytes) -> None:
    """The bytes at `path` at once: a temporary file, synced, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
