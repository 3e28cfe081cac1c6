"""The emulated workspace: people, channels, messages, threads, reactions, views, files.

Plain in-memory state with Slack's shapes (message dicts as Slack returns them), so the
Web API, the event deliveries and the web page all read the same truth. With a store
(workspace_store.py) every change is also journaled, so a restart keeps the workspace.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from slack_emulator.workspace_store import WorkspaceStore

DEFAULT_SEED = {
    "team": {"id": "T0SHIPMATE", "name": "Shipmate", "domain": "shipmate"},
    "app_id": "A0SHIPMATE",
    "commands": ["/shipmate"],
    "bot": {"id": "U0SHIPMATE", "name": "shipmate", "bot_id": "B0SHIPMATE"},
    "tokens": {
        "bot": "xoxb-emulator-bot-token",
        "app": "xapp-emulator-app-token",
        "signing_secret": "emulator-signing-secret",
    },
    "users": [
        {"id": "U0ALICE", "name": "alice", "real_name": "Alice", "title": "developer"},
        {"id": "U0BOB", "name": "bob", "real_name": "Bob", "title": "approver"},
        {"id": "U0CAROL", "name": "carol", "real_name": "Carol", "title": "viewer"},
    ],
    "channels": [
        {
            "id": "C0GENERAL",
            "name": "general",
            "members": ["U0ALICE", "U0BOB", "U0CAROL", "U0SHIPMATE"],
        },
        {
            "id": "C0DEPLOYS",
            "name": "deploys",
            "members": ["U0ALICE", "U0BOB", "U0CAROL", "U0SHIPMATE"],
        },
        {"id": "C0RANDOM", "name": "random", "members": ["U0ALICE", "U0BOB", "U0CAROL"]},
    ],
    "usergroups": [
        {"id": "S0APPROVERS", "handle": "approvers", "name": "Approvers", "users": ["U0BOB"]}
    ],
}


ROOT_FIELDS = (
    "type",
    "user",
    "bot_id",
    "text",
    "ts",
    "thread_ts",
    "reply_count",
    "reply_users_count",
    "latest_reply",
    "reply_users",
    "team",
)


class SlackError(Exception):
    """A Web API error with Slack's error code, e.g. channel_not_found."""

    def __init__(self, code: str, status: int = 200, **extra):
        super().__init__(code)
        self.code, self.status, self.extra = code, status, extra

    def body(self) -> dict:
        """Slack's error shape: the code, the extra fields (errors...), and each error
        again in response_metadata.messages with an [ERROR] prefix."""
        body = {"ok": False, "error": self.code, **self.extra}
        errors = self.extra.get("errors")
        if isinstance(errors, list) and errors:
            body["response_metadata"] = {"messages": [f"[ERROR] {e}" for e in errors]}
        return body


@dataclass
class Workspace:
    seed: dict
    messages: dict[str, list[dict]] = field(default_factory=dict)
    ephemeral: dict[str, list[dict]] = field(default_factory=dict)
    home_views: dict[str, dict] = field(default_factory=dict)
    modals: dict[str, list[dict]] = field(default_factory=dict)  # person -> open stack
    files: dict[str, dict] = field(default_factory=dict)  # file id -> its object (file_objects)
    file_data: dict[str, bytes] = field(default_factory=dict)  # the bytes, without a store
    _last_ts: float = 0.0
    _next_id: int = 1
    store: WorkspaceStore | None = None  # keeps it on disk; None keeps it in memory only
    restored_until: float | None = None  # the newest ts read back from the store on start

    @classmethod
    def from_seed(cls, path: Path | None = None, state: Path | None = None) -> Workspace:
        """The seeded workspace; with `state`, what that file kept of it is read back."""
        seed = json.loads(path.read_text()) if path else json.loads(json.dumps(DEFAULT_SEED))
        workspace = cls(seed=seed)
        if state is not None:
            WorkspaceStore(state).attach(workspace)
        return workspace

    # Changes the store records (callers that edit a message in place say so here)

    def save_message(self, channel_id: str, message: dict) -> None:
        if self.store:
            self.store.message(channel_id, message)

    def save_channel(self, channel: dict) -> None:
        if self.store:
            self.store.channel(channel)

    def save_ephemeral(self, user: str) -> None:
        if self.store:
            self.store.ephemeral(user)

    def save_views(self, user: str) -> None:
        if self.store:
            self.store.views(user)

    def save_file(self, file: dict, data: bytes | None = None) -> None:
        """A new file with its bytes, or (data None) a change to a file's object."""
        self.files[file["id"]] = file
        if self.store:
            self.store.file(file, data)
        elif data is not None:
            self.file_data[file["id"]] = data

    def file_bytes(self, file_id: str) -> bytes:
        if self.store:
            return self.store.file_bytes(file_id)
        return self.file_data[file_id]

    def before_restart(self, message: dict) -> bool:
        """Whether the message was read back from the store, i.e. is from before a restart."""
        return self.restored_until is not None and float(message["ts"]) <= self.restored_until

    # Identity

    @property
    def team(self) -> dict:
        return self.seed["team"]

    @property
    def bot(self) -> dict:
        return self.seed["bot"]

    @property
    def tokens(self) -> dict:
        return self.seed["tokens"]

    def user(self, user_id: str) -> dict:
        if user_id == self.bot["id"]:
            return {
                "id": user_id,
                "name": self.bot["name"],
                "real_name": self.bot["name"],
                "is_bot": True,
            }
        for user in self.seed["users"]:
            if user["id"] == user_id:  # another app's bot user is seeded with its bot_id
                return {**user, "is_bot": "bot_id" in user}
        raise SlackError("user_not_found")

    def team_of(self, user_id: str) -> str:
        """A person's own team: a seeded user with a team_id is a Slack Connect external."""
        if user_id == self.bot["id"]:
            return self.team["id"]
        return self.user(user_id).get("team_id") or self.team["id"]

    def users(self) -> list[dict]:
        return [self.user(u["id"]) for u in self.seed["users"]] + [self.user(self.bot["id"])]

    def user_profile(self, user_id: str) -> dict:
        user = self.user(user_id)
        return {
            "id": user["id"],
            "team_id": self.team_of(user["id"]),
            "name": user["name"],
            "real_name": user.get("real_name", user["name"]),
            "is_bot": user["is_bot"],
            "deleted": False,
            "profile": {
                "display_name": user["name"],
                "real_name": user.get("real_name", ""),
                "title": user.get("title", ""),
            },
        }

    def usergroups(self) -> list[dict]:
        return self.seed.get("usergroups", [])

    # Channels

    def channels(self) -> list[dict]:
        return self.seed["channels"]

    def channel(self, channel_id: str) -> dict:
        for channel in self.seed["channels"]:
            if channel["id"] == channel_id:
                return channel
        if channel_id.startswith("D") and channel_id[1:] in {
            u["id"][1:] for u in self.seed["users"]
        }:
            return self.direct_channel("U" + channel_id[1:])
        raise SlackError("channel_not_found")

    def direct_channel(self, user_id: str) -> dict:
        """The DM between a person and the bot (D + the person's id without its U)."""
        self.user(user_id)
        channel_id = "D" + user_id[1:]
        for channel in self.seed["channels"]:
            if channel["id"] == channel_id:
                return channel
        channel = {
            "id": channel_id,
            "name": f"dm-{self.user(user_id)['name']}",
            "is_im": True,
            "user": user_id,
            "members": [user_id, self.bot["id"]],
        }
        self.seed["channels"].append(channel)
        self.save_channel(channel)
        return channel

    def channel_info(self, channel: dict) -> dict:
        is_im = channel.get("is_im", False)
        return {
            "id": channel["id"],
            "name": channel["name"],
            "is_channel": not is_im,
            "is_im": is_im,
            "is_private": bool(channel.get("is_private")),
            "is_member": self.bot["id"] in channel["members"],
            "num_members": len(channel["members"]),
            "created": 1767225600,
            **({"user": channel["user"]} if is_im else {}),
        }

    def require_member(self, channel: dict, user_id: str) -> None:
        if user_id not in channel["members"]:
            raise SlackError("not_in_channel")

    # Messages

    def next_ts(self) -> str:
        """Timestamps as Slack writes them; strictly increasing so they sort in time order."""
        now = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = round(now, 6)
        return f"{self._last_ts:.6f}"

    def next_id(self, prefix: str) -> str:
        if self.store and self._next_id >= self.store.leased:
            self.store.lease_ids(self._next_id)
        number, self._next_id = self._next_id, self._next_id + 1
        return f"{prefix}{number:08d}"

    def post(
        self,
        channel: dict,
        user_id: str,
        text: str,
        blocks: list | None = None,
        thread_ts: str | None = None,
        broadcast: bool = False,
        extra: dict | None = None,
    ) -> dict:
        messages = self.messages.setdefault(channel["id"], [])
        message = {
            "type": "message",
            "user": user_id,
            "text": text,
            "ts": self.next_ts(),
            "team": self.team_of(user_id),
        }
        if user_id == self.bot["id"]:
            message.update(bot_id=self.bot["bot_id"], app_id=self.seed["app_id"])
        elif (other := self.user(user_id)).get("bot_id"):  # an integration's message
            message["bot_id"] = other["bot_id"]
        if blocks:
            message["blocks"] = blocks
        message.update(extra or {})  # e.g. a file share's files
        if thread_ts:
            parent = self.find(channel["id"], thread_ts)
            message["thread_ts"] = parent["ts"]
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent["latest_reply"] = message["ts"]
            parent["thread_ts"] = parent["ts"]
            parent["reply_users"] = sorted({*parent.get("reply_users", []), user_id})
            parent["reply_users_count"] = len(parent["reply_users"])
            if broadcast:  # also shown in the channel, with a summary of its thread's start
                message["subtype"] = "thread_broadcast"
                message["root"] = {k: v for k, v in parent.items() if k in ROOT_FIELDS}
        messages.append(message)
        self.save_message(channel["id"], message)
        if thread_ts:  # after the reply: a torn last line costs the reply's count, not it
            self.save_message(channel["id"], parent)
        return message

    def find(self, channel_id: str, ts: str) -> dict:
        for message in self.messages.get(channel_id, []):
            if message["ts"] == ts:
                return message
        raise SlackError("message_not_found")

    def top_level(self, channel_id: str) -> list[dict]:
        """The channel's own messages: thread starts, lone messages and broadcast replies."""
        return [
            m
            for m in self.messages.get(channel_id, [])
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]

    def replies(self, channel_id: str, thread_ts: str) -> list[dict]:
        parent = self.find(channel_id, thread_ts)
        root = parent.get("thread_ts", parent["ts"])
        return [
            m
            for m in self.messages.get(channel_id, [])
            if m["ts"] == root or m.get("thread_ts") == root
        ]

    def delete(self, channel_id: str, ts: str) -> None:
        message = self.find(channel_id, ts)
        self.messages[channel_id].remove(message)
        if self.store:
            self.store.deleted(channel_id, ts)

    def reset(self) -> None:
        self.messages.clear()
        self.ephemeral.clear()
        self.home_views.clear()
        self.modals.clear()
        self.files.clear()
        self.file_data.clear()
        self.seed["channels"] = [c for c in self.seed["channels"] if not c.get("is_im")]
        if self.store:
            self.store.reset()
