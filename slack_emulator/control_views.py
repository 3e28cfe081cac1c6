"""Control routes for modals and App Home views, acting as the person who sees them.

Submitting checks what Slack's own client checks before anything is sent (required
inputs filled, min_length / max_length), sends the view_submission as Slack does, waits
for the app's ack and acts on its response_action, like the real modal does.
"""

from __future__ import annotations

import asyncio
import json
import time

from aiohttp import web

from slack_emulator.blockkit import check_view
from slack_emulator.events import EventDispatcher
from slack_emulator.web_api import WebApi
from slack_emulator.workspace import SlackError, Workspace

REQUIRED = "Please complete this required field."


def error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def interaction(ws: Workspace, user: dict, kind: str) -> dict:
    """What every interactive payload Slack sends carries: its type, team, person, app."""
    return {
        "type": kind,
        "team": {"id": ws.team["id"], "domain": ws.team["domain"]},
        "user": {
            "id": user["id"],
            "username": user["name"],
            "name": user["name"],
            "team_id": ws.team_of(user["id"]),  # the clicker's own team
        },
        "api_app_id": ws.seed["app_id"],
        "token": "emulator-verification-token",
        "enterprise": None,
        "is_enterprise_install": False,
    }


def action(block_id: str, button: dict, body: dict) -> dict:
    """One entry of a block_actions payload's `actions`."""
    return {
        "action_id": button["action_id"],
        "block_id": block_id,
        "text": button.get("text", {}),
        # `value` in the body stands for a modified client's forged value
        "value": str(body.get("value", button.get("value", ""))),
        "style": button.get("style"),
        "type": button.get("type", "button"),
        "action_ts": f"{time.time():.6f}",
    }


def find_button(blocks: list[dict], action_id: str) -> tuple[str, dict] | None:
    for block in blocks:
        candidates = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if block.get("accessory"):
            candidates.append(block["accessory"])
        for element in candidates:
            if element.get("type") == "button" and element.get("action_id") == action_id:
                return block.get("block_id", ""), element
    return None


class ViewControl:
    def __init__(self, workspace: Workspace, api: WebApi, events: EventDispatcher):
        self.ws, self.api, self.events, self.views = workspace, api, events, api.views

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/_emulator/modals/{user}", self.modals),
            web.post("/_emulator/views/{view_id}/submit", self.submit),
            web.post("/_emulator/views/{view_id}/close", self.close),
        ]

    async def modals(self, request: web.Request) -> web.Response:
        stack = self.ws.modals.get(request.match_info["user"], [])
        return web.json_response({"ok": True, "views": stack})

    def _modal(self, user_id: str, view_id: str) -> tuple[dict, dict]:
        """The person and their open modal, or SlackError."""
        user = self.ws.user(user_id)
        owner, view = self.views.find(view_id)
        if owner != user["id"] or view["type"] != "modal":
            raise SlackError("not_found")
        return user, view

    async def submit(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        try:
            user, view = self._modal(str(body.get("user") or ""), request.match_info["view_id"])
        except SlackError as exc:
            return error(404, exc.code)
        if self.views.stack(user["id"])[-1] is not view:
            return error(409, "only the top view of the stack can be submitted")
        values = body.get("values") or {}
        if not isinstance(values, dict):
            return error(400, "values must be an object")
        problems = client_errors(view, values)
        if problems:
            return _invalid(problems)
        submitted = {**view, "state": {"values": state_values(view, values)}}
        payload = {
            **interaction(self.ws, user, "view_submission"),
            "trigger_id": self.api.new_trigger_id(user["id"]),
            "view": submitted,
            "response_urls": [],
        }
        # Slack's client waits once for the ack; it does not retry a submission.
        delivery = self.events.send("interactive", payload, retries=0)
        try:
            await asyncio.wait_for(delivery.settled.wait(), self.events.ack_timeout + 1)
        except TimeoutError:
            pass
        done = {"delivery_id": delivery.id}
        if not delivery.acked:  # the modal stays, with "We had some trouble connecting"
            return web.json_response({"ok": False, "error": "not_acked", **done})
        response = delivery.response or {}
        what = response.get("response_action")
        try:
            if what == "errors":
                view["state"] = submitted["state"]  # the person's input stays in the modal
                self.views.changed(user["id"])
                return _invalid(response.get("errors") or {}, done)
            if what in ("update", "push"):
                new = response.get("view") if isinstance(response.get("view"), dict) else {}
                check_view(new, ("modal",))
                if what == "update":
                    self.views.replace(user["id"], view, new)
                else:
                    self.views.push(user["id"], new)
                return web.json_response({"ok": True, **done, "closed": False})
        except SlackError as exc:
            return web.json_response({"ok": False, "error": exc.code, **exc.extra, **done})
        if what == "clear":
            self.views.clear(user["id"])
        else:
            self.views.close(user["id"], view)
        return web.json_response({"ok": True, **done, "closed": True})

    async def close(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        try:
            user, view = self._modal(str(body.get("user") or ""), request.match_info["view_id"])
        except SlackError as exc:
            return error(404, exc.code)
        self.views.close(user["id"], view)
        delivery_id = None
        if view.get("notify_on_close"):
            payload = {
                **interaction(self.ws, user, "view_closed"),
                "view": view,
                "is_cleared": False,
            }
            delivery_id = self.events.send("interactive", payload).id
        return web.json_response({"ok": True, "delivery_id": delivery_id})

    def click(self, body: dict) -> web.Response:
        """A button in the person's App Home or in one of their open modals."""
        try:
            user = self.ws.user(str(body.get("user") or ""))
            owner, view = self.views.find(str(body.get("view_id") or ""))
        except SlackError as exc:
            return error(404, exc.code)
        if owner != user["id"]:
            return error(404, "not_found")
        action_id = str(body.get("action_id") or "")
        found = find_button(view.get("blocks") or [], action_id)
        if found is None:
            return error(404, f"that view has no button with action_id {action_id}")
        payload = {
            **interaction(self.ws, user, "block_actions"),
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": self.api.new_trigger_id(user["id"]),
            "view": view,
            "state": {"values": {}},
            "actions": [action(*found, body)],
        }
        delivery = self.events.send("interactive", payload)
        return web.json_response({"ok": True, "delivery_id": delivery.id})


async def read_body(request: web.Request, *required: str) -> dict:
    """A control route's JSON object, with the keys it needs; a clear 400 otherwise."""

    def refuse(message: str) -> web.HTTPBadRequest:
        text = json.dumps({"ok": False, "error": message})
        return web.HTTPBadRequest(text=text, content_type="application/json")

    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise refuse("body must be JSON") from None
    if not isinstance(body, dict):
        raise refuse("body must be an object")
    missing = [key for key in required if not body.get(key)]
    if missing:
        raise refuse(f"missing {', '.join(missing)}")
    return body


def _invalid(errors: dict, extra: dict | None = None) -> web.Response:
    body = {"ok": False, "error": "invalid_submission", "errors": errors, **(extra or {})}
    return web.json_response(body)


def _inputs(view: dict):
    for block in view.get("blocks") or []:
        element = block.get("element") if block.get("type") == "input" else None
        if isinstance(element, dict):
            yield block, element


def _typed(values: dict, block: dict, element: dict) -> str:
    value = (values.get(block["block_id"]) or {}).get(element.get("action_id"))
    return "" if value is None else str(value)


def client_errors(view: dict, values: dict) -> dict:
    """What Slack's client refuses before sending anything: {block_id: message}."""
    problems = {}
    for block, element in _inputs(view):
        text = _typed(values, block, element)
        low, high = element.get("min_length"), element.get("max_length")
        if not text.strip():
            if not block.get("optional"):
                problems[block["block_id"]] = REQUIRED
        elif isinstance(low, int) and len(text) < low:
            problems[block["block_id"]] = f"Please enter at least {low} characters."
        elif isinstance(high, int) and len(text) > high:
            problems[block["block_id"]] = f"Please enter no more than {high} characters."
    return problems


def state_values(view: dict, values: dict) -> dict:
    """view.state.values as Slack sends it: every input, empty ones with a null value."""
    state: dict = {}
    for block, element in _inputs(view):
        kind, text = element.get("type"), _typed(values, block, element)
        if kind == "static_select":
            options = element.get("options") or []
            chosen = next((o for o in options if o.get("value") == text), None)
            entry = {"type": kind, "selected_option": chosen}
        else:
            entry = {"type": kind, "value": text or None}
        state.setdefault(block["block_id"], {})[element.get("action_id")] = entry
    return state
