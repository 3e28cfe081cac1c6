"""The control API for people and tests: act as a person, click buttons, read what happened.

Stable: tests are written against it. POST /_emulator/messages posts as a person and
emits the events Slack would; POST /_emulator/actions clicks a button; the GET routes
return messages (with threads and reactions), ephemeral messages and deliveries.

Routes (bodies are JSON):
- POST /_emulator/messages {user, channel, text, thread_ts?, reply_broadcast?, files?}
- POST /_emulator/files (a form), GET /_emulator/files/{file_id}/download: control_files.py
- POST /_emulator/actions: a message's button {user, channel, message_ts, action_id}, or a
  button in the person's App Home or open modal {user, view_id, action_id}
- POST /_emulator/commands {user, channel, command, text}
- POST /_emulator/home_opened {user}: the person opens the App Home tab
- GET /_emulator/home/{user} → {view}: the person's published App Home
- GET /_emulator/modals/{user} → {views}: the person's open modals, bottom first
- POST /_emulator/views/{view_id}/submit {user, values: {block_id: {action_id: text}}}
  → {ok, delivery_id, closed}, or {ok: false, error: invalid_submission,
  errors: {block_id: message}} (refused by the client's checks or by the app's ack)
- POST /_emulator/views/{view_id}/close {user}: sends view_closed if notify_on_close
- GET /_emulator/channels/{channel}/messages: top-level messages with their replies; a
  broadcast reply is among its thread's replies and also top-level with "broadcast": true;
  a message from before the emulator's last restart has "before_restart": true
- GET /_emulator/ephemeral/{user}, /_emulator/state, /_emulator/deliveries
- POST /_emulator/response/{response_id}: a response_url
- POST /_emulator/reset, /_emulator/disconnect, /_emulator/ratelimits,
  /_emulator/deliveries/{delivery_id}/redeliver

The modal and view routes live in control_views.py.
"""

from __future__ import annotations

import json

from aiohttp import web

from slack_emulator.blockkit import check_message
from slack_emulator.control_files import FileControl
from slack_emulator.control_views import (
    ViewControl,
    action,
    error,
    find_button,
    interaction,
    read_body,
)
from slack_emulator.events import EventDispatcher
from slack_emulator.ratelimits import RateLimiter
from slack_emulator.web_api import WebApi
from slack_emulator.workspace import SlackError, Workspace


class Control:
    def __init__(
        self, workspace: Workspace, api: WebApi, events: EventDispatcher, limiter: RateLimiter, live
    ):
        self.ws, self.api, self.events, self.limiter, self.live = (
            workspace,
            api,
            events,
            limiter,
            live,
        )
        self.responses: dict[str, dict] = {}
        self.view_control = ViewControl(workspace, api, events)
        self.file_control = FileControl(workspace, api.files, self._emit_message_events)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/_emulator/messages", self.post_message),
            web.post("/_emulator/actions", self.click),
            web.post("/_emulator/commands", self.slash_command),
            web.post("/_emulator/home_opened", self.home_opened),
            web.post("/_emulator/disconnect", self.disconnect),
            web.post("/_emulator/reset", self.reset),
            web.get("/_emulator/state", self.state),
            web.get("/_emulator/channels/{channel}/messages", self.channel_messages),
            web.get("/_emulator/ephemeral/{user}", self.ephemeral_messages),
            web.get("/_emulator/home/{user}", self.home_view),
            web.get("/_emulator/deliveries", self.deliveries),
            web.post("/_emulator/deliveries/{delivery_id}/redeliver", self.redeliver),
            web.post("/_emulator/ratelimits", self.rate_limits),
            web.post("/_emulator/response/{response_id}", self.response_url),
            *self.view_control.routes(),
            *self.file_control.routes(),
        ]

    async def post_message(self, request: web.Request) -> web.Response:
        peeked = await _peek(request)
        if isinstance(peeked, dict) and peeked.get("files") is not None:  # a file share
            return await self.file_control.post_json(await read_body(request, "user", "channel"))
        body = await read_body(request, "user", "channel", "text")
        try:
            user = self.ws.user(body["user"])
            channel = self.ws.channel(body["channel"])
        except SlackError as exc:
            return error(404, exc.code)
        if user["id"] not in channel["members"]:
            return error(403, f"{user['name']} is not in #{channel['name']}")
        text = str(body["text"])
        if len(text) > 40_000:
            return error(400, "msg_too_long")
        broadcast = bool(body.get("thread_ts")) and body.get("reply_broadcast") in (True, "true")
        try:
            message = self.ws.post(
                channel, user["id"], text, None, body.get("thread_ts"), broadcast
            )
        except SlackError as exc:
            return error(404, exc.code)
        self.live.changed(channel["id"])
        self._emit_message_events(channel, message)
        return web.json_response({"ok": True, "ts": message["ts"], "channel": channel["id"]})

    def _emit_message_events(self, channel: dict, message: dict) -> None:
        """What Slack sends for a person's message: message, and app_mention if mentioned."""
        bot = self.ws.bot["id"]
        is_im = bool(channel.get("is_im"))
        event = {
            "type": "message",
            "channel": channel["id"],
            "user": message["user"],
            "text": message["text"],
            "ts": message["ts"],
            "team": message["team"],  # the writer's own team
            "channel_type": "im" if is_im else "channel",
        }
        if message["team"] != self.ws.team["id"]:  # a Slack Connect external, as Slack says
            event.update(user_team=message["team"], source_team=message["team"])
        if "thread_ts" in message:
            event["thread_ts"] = message["thread_ts"]
        if message.get("subtype"):
            event.update(subtype=message["subtype"], root=message["root"])
        if message.get("bot_id"):  # as Slack marks what another app posted
            event["bot_id"] = message["bot_id"]
        if message.get("files"):  # a file share, as Slack sends it
            event.update(subtype="file_share", files=message["files"], upload=True)
            event["display_as_bot"] = False
        if bot in channel["members"]:
            self.events.send("events_api", self.events.event_callback(event))
        if not is_im and f"<@{bot}>" in message["text"]:
            mention = {k: v for k, v in event.items() if k != "channel_type"}
            if mention.get("subtype") == "file_share":  # the mention carries the files only
                del mention["subtype"]
            self.events.send(
                "events_api", self.events.event_callback({**mention, "type": "app_mention"})
            )

    async def click(self, request: web.Request) -> web.Response:
        peeked = await _peek(request)
        if isinstance(peeked, dict) and peeked.get("view_id"):
            return self.view_control.click(await read_body(request, "user", "action_id"))
        body = await read_body(request, "user", "channel", "message_ts", "action_id")
        try:
            user = self.ws.user(body["user"])
            channel = self.ws.channel(body["channel"])
            ephemeral = self._ephemeral(user["id"], channel["id"], body["message_ts"])
            message = ephemeral or self.ws.find(channel["id"], body["message_ts"])
        except SlackError as exc:
            return error(404, exc.code)
        found = find_button(message.get("blocks") or [], body["action_id"])
        if found is None:
            return error(404, f"that message has no button with action_id {body['action_id']}")
        block_id, button = found
        response_id = self.ws.next_id("R")
        self.responses[response_id] = {
            "channel": channel["id"],
            "message_ts": message["ts"],
            "user": user["id"],
        }
        payload = {
            **interaction(self.ws, user, "block_actions"),
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel["id"],
                "is_ephemeral": ephemeral is not None,
            },
            "trigger_id": self.api.new_trigger_id(user["id"]),
            "channel": {"id": channel["id"], "name": channel["name"]},
            "message": message,
            "state": {"values": {}},
            "response_url": f"{self.api.base_url}/_emulator/response/{response_id}",
            "actions": [action(block_id, button, body)],
        }
        if ephemeral is not None:
            del payload["message"]  # Slack sends no message for an ephemeral one
        delivery = self.events.send("interactive", payload)
        return web.json_response({"ok": True, "delivery_id": delivery.id})

    def _ephemeral(self, user: str, channel: str, ts: str) -> dict | None:
        """A click on a message only `user` sees (chat.postEphemeral)."""
        return next(
            (
                m
                for m in self.ws.ephemeral.get(user, [])
                if m["channel"] == channel and m["ts"] == ts
            ),
            None,
        )

    async def slash_command(self, request: web.Request) -> web.Response:
        """A person runs `/command text` in a channel: Slack posts nothing, it sends the
        command to the app, with a response_url for the answer."""
        body = await read_body(request, "user", "channel", "command")
        try:
            user = self.ws.user(body["user"])
            channel = self.ws.channel(body["channel"])
        except SlackError as exc:
            return error(404, exc.code)
        command = str(body["command"])
        if command not in self.ws.seed.get("commands", []):
            return error(404, f"{command} is not a command of this app")
        response_id = self.ws.next_id("R")
        self.responses[response_id] = {"channel": channel["id"], "user": user["id"]}
        payload = {
            "token": "emulator-verification-token",
            "team_id": self.ws.team_of(user["id"]),
            "team_domain": self.ws.team["domain"],
            "channel_id": channel["id"],
            "channel_name": "directmessage" if channel.get("is_im") else channel["name"],
            "user_id": user["id"],
            "user_name": user["name"],
            "command": command,
            "text": str(body.get("text") or ""),
            "api_app_id": self.ws.seed["app_id"],
            "is_enterprise_install": "false",
            "response_url": f"{self.api.base_url}/_emulator/response/{response_id}",
            "trigger_id": self.api.new_trigger_id(user["id"]),
        }
        delivery = self.events.send("slash_commands", payload)
        return web.json_response({"ok": True, "delivery_id": delivery.id})

    async def home_opened(self, request: web.Request) -> web.Response:
        body = await read_body(request, "user")
        try:
            user = self.ws.user(body["user"])
        except SlackError as exc:
            return error(404, exc.code)
        channel = self.ws.direct_channel(user["id"])
        delivery = self.events.send(
            "events_api",
            self.events.event_callback(
                {
                    "type": "app_home_opened",
                    "user": user["id"],
                    "channel": channel["id"],
                    "tab": "home",
                }
            ),
        )
        return web.json_response({"ok": True, "delivery_id": delivery.id})

    async def response_url(self, request: web.Request) -> web.Response:
        target = self.responses.get(request.match_info["response_id"])
        if target is None:
            return error(404, "expired_url")
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return error(400, "invalid_payload")
        if not isinstance(body, dict):
            return error(400, "invalid_payload")
        text = str(body.get("text") or "")
        blocks = body.get("blocks")
        try:
            check_message(blocks)  # Slack refuses what chat.postMessage would refuse
            channel = self.ws.channel(target["channel"])
            original = target.get("message_ts")  # a slash command's response_url has none
            if body.get("delete_original") and original:
                self.ws.delete(channel["id"], original)
            elif body.get("replace_original") and original:
                message = self.ws.find(channel["id"], original)
                message["text"] = text
                message.pop("blocks", None)  # as in Slack: the new message replaces the old whole
                if blocks:
                    message["blocks"] = blocks
                self.ws.save_message(channel["id"], message)
            elif body.get("response_type") == "in_channel":
                self.ws.post(channel, self.ws.bot["id"], text, blocks, body.get("thread_ts"))
            else:
                self.ws.ephemeral.setdefault(target["user"], []).append(
                    {
                        "type": "message",
                        "channel": channel["id"],
                        "user": self.ws.bot["id"],
                        "text": text,
                        "blocks": blocks or [],
                        "ts": self.ws.next_ts(),
                        "thread_ts": body.get("thread_ts"),
                    }
                )
                self.ws.save_ephemeral(target["user"])
        except SlackError as exc:  # bad blocks, or the original message is gone
            return web.json_response(exc.body(), status=400 if exc.extra else 404)
        self.live.changed(channel["id"])
        return web.json_response({"ok": True})

    async def disconnect(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "disconnected": await self.events.disconnect_all()})

    async def reset(self, request: web.Request) -> web.Response:
        self.ws.reset()
        self.events.deliveries.clear()
        self.limiter.reset()
        self.responses.clear()
        self.live.changed("*")
        return web.json_response({"ok": True})

    async def state(self, request: web.Request) -> web.Response:
        channels = [self.ws.channel_info(c) | {"members": c["members"]} for c in self.ws.channels()]
        return web.json_response(
            {
                "ok": True,
                "team": self.ws.team,
                "bot": self.ws.bot,
                "users": [self.ws.user(u["id"]) for u in self.ws.seed["users"]],
                "usergroups": self.ws.usergroups(),
                "channels": channels,
            }
        )

    async def channel_messages(self, request: web.Request) -> web.Response:
        try:
            channel = self.ws.channel(request.match_info["channel"])
        except SlackError as exc:
            return error(404, exc.code)
        messages = []
        for message in self.ws.top_level(channel["id"]):
            if message.get("subtype") == "thread_broadcast":
                messages.append({**message, "broadcast": True, "replies": []})
                continue
            replies = [
                m
                for m in self.ws.messages.get(channel["id"], [])
                if m.get("thread_ts") == message["ts"] and m["ts"] != message["ts"]
            ]
            messages.append({**message, "replies": [self._marked(m) for m in replies]})
        messages = [self._marked(m) for m in messages]
        return web.json_response({"ok": True, "channel": channel["id"], "messages": messages})

    def _marked(self, message: dict) -> dict:
        """A message read back from the workspace's file says so, for the page's marker."""
        return {**message, "before_restart": True} if self.ws.before_restart(message) else message

    async def ephemeral_messages(self, request: web.Request) -> web.Response:
        user = request.match_info["user"]
        return web.json_response({"ok": True, "messages": self.ws.ephemeral.get(user, [])})

    async def home_view(self, request: web.Request) -> web.Response:
        view = self.ws.home_views.get(request.match_info["user"])
        return web.json_response({"ok": True, "view": view})

    async def redeliver(self, request: web.Request) -> web.Response:
        delivery = self.events.redeliver(request.match_info["delivery_id"])
        if delivery is None:
            return error(404, "no such delivery")
        return web.json_response({"ok": True, "delivery_id": delivery.id})

    async def rate_limits(self, request: web.Request) -> web.Response:
        """`{"storm_seconds": N}`: every Web API call is answered 429 for N seconds (0 ends
        a storm)."""
        body = await read_body(request)
        seconds = body.get("storm_seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            return error(400, "storm_seconds must be a number of seconds, 0 or more")
        self.limiter.storm(float(seconds))
        return web.json_response({"ok": True, "rate_limits": self.limiter.stats()})

    async def deliveries(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "ok": True,
                "deliveries": [d.as_dict() for d in self.events.deliveries],
                "stats": self.events.stats(),
                "rate_limits": self.limiter.stats(),
            }
        )


async def _peek(request: web.Request):
    """The JSON body, or None: lets a route choose its form before it checks fields."""
    try:
        return await request.json()
    except ValueError:
        return None
