"""Modals and App Home views: views.open / push / update / publish, trigger ids, stacks.

Each person has a stack of open modals (bottom first; Slack allows three) and one App
Home view. Stored views have the shape Slack returns: id, hash, state, root_view_id...
A trigger_id is good once, for 3 seconds, and only for the person whose click made it.
"""

from __future__ import annotations

import json
import secrets
import time

from slack_emulator.blockkit import check_view, with_ids
from slack_emulator.workspace import SlackError, Workspace

TRIGGER_TTL = 3.0
MAX_STACK = 3


class Views:
    def __init__(self, workspace: Workspace, on_change=None):
        self.ws = workspace
        self.on_change = on_change or (lambda user: None)  # called with the person's id
        self.triggers: dict[str, tuple[str, float]] = {}  # trigger_id -> (user, issued at)
        self.exchanged: set[str] = set()
        self.trigger_ttl = TRIGGER_TTL

    def methods(self) -> dict:
        return {
            "views.open": self.views_open,
            "views.push": self.views_push,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
        }

    # Trigger ids

    def new_trigger(self, user: str) -> str:
        trigger = f"{self.ws.next_id('')}.{secrets.token_hex(6)}"
        self.triggers[trigger] = (user, time.monotonic())
        return trigger

    def _exchange(self, trigger) -> str:
        """The person the trigger belongs to; refused as Slack refuses a bad one."""
        if trigger in self.exchanged:
            raise SlackError("exchanged_trigger_id")
        issued = self.triggers.get(trigger)
        if issued is None:
            raise SlackError("invalid_trigger_id")
        if time.monotonic() - issued[1] > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        return issued[0]

    def _use(self, trigger: str) -> None:
        self.triggers.pop(trigger, None)
        self.exchanged.add(trigger)

    # The store

    def stack(self, user: str) -> list[dict]:
        return self.ws.modals.setdefault(user, [])

    def find(self, view_id: str | None = None, external_id: str | None = None):
        """(user, view) for a view id or external id, in homes and modal stacks."""
        for user, view in self.ws.home_views.items():
            if _matches(view, view_id, external_id):
                return user, view
        for user, stack in self.ws.modals.items():
            for view in stack:
                if _matches(view, view_id, external_id):
                    return user, view
        raise SlackError("not_found")

    def _stored(self, view: dict, view_id: str | None = None, previous: dict | None = None) -> dict:
        view_id = view_id or self.ws.next_id("V")
        return {
            "id": view_id,
            "team_id": self.ws.team["id"],
            "type": view["type"],
            "title": view.get("title"),
            "blocks": with_ids(view.get("blocks") or []),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{time.time():.6f}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "previous_view_id": previous["id"] if previous else None,
            "root_view_id": previous["root_view_id"] if previous else view_id,
            "app_id": self.ws.seed["app_id"],
            "app_installed_team_id": self.ws.team["id"],
            "bot_id": self.ws.bot["bot_id"],
        }

    def _unique_external_id(self, view: dict, keep: str | None = None) -> None:
        external_id = view.get("external_id")
        if not external_id:
            return
        try:
            _, found = self.find(external_id=external_id)
        except SlackError:
            return
        if found["id"] != keep:
            raise SlackError("duplicate_external_id")

    def open(self, user: str, view: dict) -> dict:
        """A new stack: the person sees this modal on top of whatever they were doing."""
        stored = self._stored(view)
        self.ws.modals[user] = [stored]
        self.changed(user)
        return stored

    def push(self, user: str, view: dict) -> dict:
        stack = self.stack(user)
        if len(stack) >= MAX_STACK:
            raise SlackError("push_limit_reached")
        stored = self._stored(view, previous=stack[-1] if stack else None)
        stack.append(stored)
        self.changed(user)
        return stored

    def replace(self, user: str, old: dict, view: dict) -> dict:
        """The same view (same id, same place in the stack) with new content and hash."""
        stored = self._stored(view, view_id=old["id"])
        stored["previous_view_id"], stored["root_view_id"] = (
            old["previous_view_id"],
            old["root_view_id"],
        )
        if old["type"] == "home":
            self.ws.home_views[user] = stored
        else:
            stack = self.stack(user)
            stack[stack.index(old)] = stored
        self.changed(user)
        return stored

    def changed(self, user: str) -> None:
        """Kept on disk when the workspace has a store; the person's open pages redraw."""
        self.ws.save_views(user)
        self.on_change(user)

    def close(self, user: str, view: dict) -> None:
        """Closes the view and any pushed above it."""
        stack = self.stack(user)
        if view in stack:
            del stack[stack.index(view) :]
        self.changed(user)

    def clear(self, user: str) -> None:
        self.ws.modals[user] = []
        self.changed(user)

    # Web API methods

    def views_open(self, args: dict) -> dict:
        return self._new_modal(args, self.open)

    def views_push(self, args: dict) -> dict:
        return self._new_modal(args, self.push)

    def _new_modal(self, args: dict, place) -> dict:
        """A modal opened or pushed: a good trigger, a valid view, then `place` stores it."""
        user = self._exchange(args.get("trigger_id"))
        view = _view_arg(args.get("view"))
        check_view(view, ("modal",))
        self._unique_external_id(view)
        self._use(args["trigger_id"])
        return {"view": place(user, view)}

    def views_update(self, args: dict) -> dict:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if not view_id and not external_id:
            raise SlackError("invalid_arguments", errors=["view_id or external_id is required"])
        user, old = self.find(view_id, external_id)
        view = _view_arg(args.get("view"))
        check_view(view, (old["type"],))
        if args.get("hash") and args["hash"] != old["hash"]:
            raise SlackError("hash_conflict")
        self._unique_external_id(view, keep=old["id"])
        return {"view": self.replace(user, old, view)}

    def views_publish(self, args: dict) -> dict:
        user = str(args.get("user_id") or "")
        self.ws.user(user)
        view = _view_arg(args.get("view"))
        check_view(view, ("home",))
        old = self.ws.home_views.get(user)
        if old and args.get("hash") and args["hash"] != old["hash"]:
            raise SlackError("hash_conflict")
        if old:
            return {"view": self.replace(user, old, view)}
        stored = self.ws.home_views[user] = self._stored(view)
        self.changed(user)
        return {"view": stored}


def _matches(view: dict, view_id: str | None, external_id: str | None) -> bool:
    return bool(view_id and view["id"] == view_id) or bool(
        external_id and view["external_id"] == external_id
    )


def _view_arg(value) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SlackError("invalid_arguments", errors=["view is not JSON"]) from None
    if not isinstance(value, dict):
        errors = ["must provide an object [json-pointer:/view]"]
        raise SlackError("invalid_arguments", errors=errors)
    return value
