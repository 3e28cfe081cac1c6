"""The Slack Web API subset Shipmate uses, with Slack's response and error shapes.

Each method takes the parsed arguments and returns the JSON body; a SlackError becomes
`{"ok": false, "error": ...}`. Bad input never becomes a 500.
"""

from __future__ import annotations

import json
import secrets

from slack_emulator.blockkit import check_message
from slack_emulator.files import Files
from slack_emulator.grants import BY_CONVERSATION, Grants
from slack_emulator.views import Views
from slack_emulator.workspace import SlackError, Workspace

MAX_TEXT = 40_000


class WebApi:
    def __init__(self, workspace: Workspace, base_url: str, on_change, on_views=None):
        self.ws = workspace
        self.base_url = base_url
        self.on_change = on_change  # called with a channel id when its messages changed
        self.views = Views(workspace, on_views)  # on_views: called with a person's id
        self.grants = Grants.everything()  # the server sets the manifest's
        self.files = Files(workspace, self)
        self.methods = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.getPermalink": self.chat_get_permalink,
            "reactions.add": self.reactions_add,
            "reactions.remove": self.reactions_remove,
            "conversations.list": self.conversations_list,
            "conversations.info": self.conversations_info,
            "conversations.history": self.conversations_history,
            "conversations.replies": self.conversations_replies,
            "conversations.join": self.conversations_join,
            "conversations.open": self.conversations_open,
            "users.info": self.users_info,
            "users.list": self.users_list,
            "usergroups.list": self.usergroups_list,
            "usergroups.users.list": self.usergroups_users_list,
            "apps.connections.open": self.apps_connections_open,
            **self.views.methods(),
            **self.files.methods(),
        }

    def call(self, method: str, args: dict, token: str | None) -> dict:
        handler = self.methods.get(method)
        if handler is None:
            raise SlackError("unknown_method", status=404)
        self._authenticate(method, token)
        self._check_scope(method, args)
        return {"ok": True, **handler(args)}

    def _check_scope(self, method: str, args: dict) -> None:
        """Slack's missing_scope, before the method looks at anything else."""
        if method == "conversations.list":
            kinds = str(args.get("types") or "public_channel").split(",")
            for kind in kinds:
                conversation = {"is_im": kind == "im", "is_mpim": kind == "mpim"}
                conversation["is_private"] = kind == "private_channel"
                self.grants.check_method(method, conversation)
            return
        conversation = None
        if method in BY_CONVERSATION and args.get("channel"):
            try:
                conversation = self._channel(args)
            except SlackError:
                conversation = None  # the method itself says channel_not_found
        self.grants.check_method(method, conversation)

    def _authenticate(self, method: str, token: str | None) -> None:
        if not token:
            raise SlackError("not_authed")
        wanted = "app" if method == "apps.connections.open" else "bot"
        if token != self.ws.tokens[wanted]:
            raise SlackError("invalid_auth")

    # Helpers

    def _channel(self, args: dict, key: str = "channel") -> dict:
        value = args.get(key)
        if not value:
            raise SlackError("channel_not_found")
        value = str(value)
        if value.startswith("U"):  # posting to a person opens the DM with them
            return self.ws.direct_channel(value)
        if value.startswith("#"):
            for channel in self.ws.channels():
                if channel["name"] == value[1:]:
                    return channel
            raise SlackError("channel_not_found")
        return self.ws.channel(value)

    def _content(self, args: dict, required: bool = True) -> tuple[str, list | None]:
        text = str(args.get("text") or "")
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks) if blocks else None
            except json.JSONDecodeError:
                raise SlackError("invalid_blocks_format") from None
        check_message(blocks)
        if required and not text and not blocks:
            raise SlackError("no_text")
        if len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        return text, blocks

    def _own_message(self, channel: dict, ts: str | None, refusal: str) -> dict:
        if not ts:
            raise SlackError("message_not_found")
        message = self.ws.find(channel["id"], str(ts))
        if message.get("user") != self.ws.bot["id"]:
            raise SlackError(refusal)
        return message

    # Methods

    def auth_test(self, args: dict) -> dict:
        ws = self.ws
        return {
            "url": f"{self.base_url}/",
            "team": ws.team["name"],
            "user": ws.bot["name"],
            "team_id": ws.team["id"],
            "user_id": ws.bot["id"],
            "bot_id": ws.bot["bot_id"],
            "is_enterprise_install": False,
        }

    def chat_post_message(self, args: dict) -> dict:
        channel = self._channel(args)
        text, blocks = self._content(args)
        self.ws.require_member(channel, self.ws.bot["id"])
        thread_ts = args.get("thread_ts") or None
        broadcast = bool(thread_ts) and args.get("reply_broadcast") in (True, "true", "1", 1)
        message = self.ws.post(channel, self.ws.bot["id"], text, blocks, thread_ts, broadcast)
        if args.get("metadata"):
            message["metadata"] = _json_arg(args["metadata"])
            self.ws.save_message(channel["id"], message)
        self.on_change(channel["id"])
        return {"channel": channel["id"], "ts": message["ts"], "message": message}

    def chat_update(self, args: dict) -> dict:
        channel = self._channel(args)
        message = self._own_message(channel, args.get("ts"), "cant_update_message")
        text, blocks = self._content(args)
        message["text"] = text
        if blocks is not None:
            message["blocks"] = blocks
        message["edited"] = {"user": self.ws.bot["id"], "ts": self.ws.next_ts()}
        self.ws.save_message(channel["id"], message)
        self.on_change(channel["id"])
        return {"channel": channel["id"], "ts": message["ts"], "text": text, "message": message}

    def chat_delete(self, args: dict) -> dict:
        channel = self._channel(args)
        message = self._own_message(channel, args.get("ts"), "cant_delete_message")
        self.ws.delete(channel["id"], message["ts"])
        self.on_change(channel["id"])
        return {"channel": channel["id"], "ts": message["ts"]}

    def chat_post_ephemeral(self, args: dict) -> dict:
        channel = self._channel(args)
        user = str(args.get("user") or "")
        self.ws.user(user)
        if user not in channel["members"]:
            raise SlackError("user_not_in_channel")
        text, blocks = self._content(args)
        ts = self.ws.next_ts()
        self.ws.ephemeral.setdefault(user, []).append(
            {
                "type": "message",
                "channel": channel["id"],
                "user": self.ws.bot["id"],
                "text": text,
                "blocks": blocks or [],
                "ts": ts,
                "thread_ts": args.get("thread_ts"),
            }
        )
        self.ws.save_ephemeral(user)
        self.on_change(channel["id"])
        return {"message_ts": ts}

    def chat_get_permalink(self, args: dict) -> dict:
        channel = self._channel(args)
        message = self.ws.find(channel["id"], str(args.get("message_ts") or ""))
        path = message["ts"].replace(".", "")
        return {
            "channel": channel["id"],
            "permalink": f"{self.base_url}/archives/{channel['id']}/p{path}",
        }

    def reactions_add(self, args: dict) -> dict:
        channel = self._channel(args)
        message = self.ws.find(channel["id"], str(args.get("timestamp") or ""))
        name = str(args.get("name") or "")
        if not name:
            raise SlackError("invalid_name")
        reactions = message.setdefault("reactions", [])
        reaction = next((r for r in reactions if r["name"] == name), None)
        if reaction and self.ws.bot["id"] in reaction["users"]:
            raise SlackError("already_reacted")
        if reaction is None:
            reaction = {"name": name, "users": [], "count": 0}
            reactions.append(reaction)
        reaction["users"].append(self.ws.bot["id"])
        reaction["count"] = len(reaction["users"])
        self.ws.save_message(channel["id"], message)
        self.on_change(channel["id"])
        return {}

    def reactions_remove(self, args: dict) -> dict:
        channel = self._channel(args)
        message = self.ws.find(channel["id"], str(args.get("timestamp") or ""))
        name = str(args.get("name") or "")
        reactions = message.get("reactions", [])
        reaction = next((r for r in reactions if r["name"] == name), None)
        if reaction is None or self.ws.bot["id"] not in reaction["users"]:
            raise SlackError("no_reaction")
        reaction["users"].remove(self.ws.bot["id"])
        reaction["count"] = len(reaction["users"])
        if not reaction["users"]:
            reactions.remove(reaction)
        self.ws.save_message(channel["id"], message)
        self.on_change(channel["id"])
        return {}

    def conversations_list(self, args: dict) -> dict:
        types = str(args.get("types") or "public_channel").split(",")
        channels = [
            self.ws.channel_info(c)
            for c in self.ws.channels()
            if ("im" in types) == bool(c.get("is_im"))
            or ("im" in types and "public_channel" in types)
        ]
        return {"channels": channels, "response_metadata": {"next_cursor": ""}}

    def conversations_info(self, args: dict) -> dict:
        return {"channel": self.ws.channel_info(self._channel(args))}

    def conversations_history(self, args: dict) -> dict:
        channel = self._channel(args)
        limit = _int(args.get("limit"), 100, 1, 1000)
        latest, oldest = args.get("latest"), args.get("oldest")
        messages = [
            m
            for m in reversed(self.ws.top_level(channel["id"]))
            if (not latest or m["ts"] < str(latest)) and (not oldest or m["ts"] > str(oldest))
        ]
        return {
            "messages": self.files.fresh(_with_metadata(messages[:limit], args)),
            "has_more": len(messages) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    def conversations_replies(self, args: dict) -> dict:
        channel = self._channel(args)
        ts = args.get("ts")
        if not ts:
            raise SlackError("thread_not_found")
        replies = self.ws.replies(channel["id"], str(ts))
        limit = _int(args.get("limit"), 1000, 1, 1000)
        return {
            "messages": self.files.fresh(_with_metadata(replies[:limit], args)),
            "has_more": len(replies) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    def conversations_join(self, args: dict) -> dict:
        channel = self._channel(args)
        if self.ws.bot["id"] not in channel["members"]:
            channel["members"].append(self.ws.bot["id"])
            self.ws.save_channel(channel)
        return {"channel": self.ws.channel_info(channel)}

    def conversations_open(self, args: dict) -> dict:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 1:
            raise SlackError("not_supported", errors=["only the DM with one person is emulated"])
        return {"channel": {"id": self.ws.direct_channel(users[0])["id"]}}

    def users_info(self, args: dict) -> dict:
        return {"user": self.ws.user_profile(str(args.get("user") or ""))}

    def users_list(self, args: dict) -> dict:
        members = [self.ws.user_profile(u["id"]) for u in self.ws.users()]
        return {"members": members, "response_metadata": {"next_cursor": ""}}

    def usergroups_list(self, args: dict) -> dict:
        include = str(args.get("include_users", "")).lower() in ("1", "true")
        groups = []
        for group in self.ws.usergroups():
            entry = {
                "id": group["id"],
                "team_id": self.ws.team["id"],
                "handle": group["handle"],
                "name": group["name"],
                "user_count": len(group["users"]),
            }
            if include:
                entry["users"] = list(group["users"])
            groups.append(entry)
        return {"usergroups": groups}

    def usergroups_users_list(self, args: dict) -> dict:
        wanted = args.get("usergroup")
        for group in self.ws.usergroups():
            if group["id"] == wanted:
                return {"users": list(group["users"])}
        raise SlackError("no_such_subteam")

    def apps_connections_open(self, args: dict) -> dict:
        ws_url = self.base_url.replace("http://", "ws://", 1)
        return {"url": f"{ws_url}/link/?ticket={secrets.token_hex(8)}"}

    def new_trigger_id(self, user: str) -> str:
        """A trigger_id for views.open, good for 3 seconds and for this person only."""
        return self.views.new_trigger(user)


def _int(value, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value)))
    except (TypeError, ValueError):
        return default


def _json_arg(value) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SlackError("invalid_metadata_format") from None
    if not isinstance(value, dict):
        raise SlackError("invalid_metadata_format")
    return value


def _with_metadata(messages: list[dict], args: dict) -> list[dict]:
    """Slack returns messages' metadata only when asked (include_all_metadata)."""
    if str(args.get("include_all_metadata", "")).lower() in ("1", "true"):
        return messages
    return [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
