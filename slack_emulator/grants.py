"""What the app's manifest grants, and Slack's refusals for what it does not.

Slack answers a Web API call the bot token has no scope for with `missing_scope`,
naming the scope `needed` and the ones `provided`, and sends no event the app did not
subscribe to. The emulator reads Shipmate's own `deploy/slack-manifest.yml`, so a
feature that calls a method (or wants an event) the manifest leaves out fails here,
before a real workspace refuses it. The scopes are Slack's, from each method's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from slack_emulator.workspace import SlackError

MANIFEST = Path(__file__).resolve().parents[1] / "deploy" / "slack-manifest.yml"

# Methods and the bot scope each needs; None: no scope (or the app-level token's).
METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    "apps.connections.open": None,  # the app-level token's connections:write
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.getPermalink": None,
    "reactions.add": "reactions:write",
    "reactions.remove": "reactions:write",
    "conversations.join": "channels:join",
    "conversations.open": "im:write",
    "users.info": "users:read",
    "users.list": "users:read",
    "usergroups.list": "usergroups:read",
    "usergroups.users.list": "usergroups:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "files.info": "files:read",  # and to read a file's url_private
    # slack_sdk's files_upload_v2: getUploadURLExternal + completeUploadExternal
    "files.upload.v2": "files:write",
    "views.open": None,
    "views.push": None,
    "views.update": None,
    "views.publish": None,
}
# These need the read or history scope of the kind of conversation they touch.
BY_CONVERSATION = {
    "conversations.list": "read",
    "conversations.info": "read",
    "conversations.history": "history",
    "conversations.replies": "history",
}


@dataclass(frozen=True)
class Grants:
    scopes: frozenset[str] | None  # None: everything (no manifest to read)
    events: frozenset[str] | None

    @classmethod
    def everything(cls) -> Grants:
        return cls(None, None)

    @classmethod
    def from_manifest(cls, path: Path) -> Grants:
        import yaml

        manifest = yaml.safe_load(path.read_text()) or {}
        scopes = manifest.get("oauth_config", {}).get("scopes", {}).get("bot", [])
        events = manifest.get("settings", {}).get("event_subscriptions", {}).get("bot_events", [])
        return cls(frozenset(scopes), frozenset(events))

    def check_method(self, method: str, conversation: dict | None = None) -> None:
        """Raise Slack's missing_scope for a call the manifest does not grant.
        `conversation`: the channel the call names, for the methods whose scope
        depends on its kind."""
        if self.scopes is None:
            return
        if method in BY_CONVERSATION:
            needed = f"{_kind(conversation)}:{BY_CONVERSATION[method]}"
        else:
            needed = METHOD_SCOPES.get(method)
        if needed is not None and needed not in self.scopes:
            provided = ",".join(sorted(self.scopes))
            raise SlackError("missing_scope", needed=needed, provided=provided)

    def subscribed(self, event: dict) -> bool:
        """Whether Slack would send this event to the app at all."""
        if self.events is None:
            return True
        name = event.get("type", "")
        if name == "message":
            name = f"message.{_kind_of_event(event)}"
        return name in self.events


def _kind(conversation: dict | None) -> str:
    """Slack's scope family for a conversation: channels, groups, im or mpim."""
    if conversation is None:
        return "channels"
    if conversation.get("is_im"):
        return "im"
    if conversation.get("is_mpim"):
        return "mpim"
    return "groups" if conversation.get("is_private") else "channels"


def _kind_of_event(event: dict) -> str:
    return {"im": "im", "mpim": "mpim", "group": "groups"}.get(
        event.get("channel_type", ""), "channels"
    )
