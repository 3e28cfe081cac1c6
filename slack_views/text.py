"""Text people wrote, made inert before Shipmate posts it.

Slack reads `<!channel>`, `<@U…>` and `<https://…|label>` as a mass ping, a mention or
a disguised link. Escaping `&`, `<` and `>` is what Slack asks of apps, so only
Shipmate's own mentions ping anyone.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from workflows.models import DeliveryState, DeliveryStatus

# Endings whose error Shipmate wrote itself, naming who decided.
DECIDED = (DeliveryState.rejected, DeliveryState.cancelled, DeliveryState.expired)


def workflow_url(temporal_ui: str, workflow_id: str) -> str:
    """A workflow's page in the Temporal UI. Its id holds slashes (`delivery/orders-api/3`):
    unencoded, the UI opens another page."""
    return f"{temporal_ui}/workflows/{quote(workflow_id, safe='')}"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_keeping_mentions(text: str) -> str:
    """A refusal Shipmate words around what people wrote: everything escaped, but a
    person's mention (<@U…>) still works, as a mention and not as literal text."""
    return re.sub(r"&lt;@([UW][A-Z0-9]+)&gt;", r"<@\1>", escape(text))


def unescape(text: str) -> str:
    """What a person wrote, from a message Shipmate posted with `escape`."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def problem(status: DeliveryStatus) -> str:
    """A delivery's error as Slack text: Shipmate's own sentence (which may mention who
    decided), then whatever a person wrote, escaped."""
    if not status.error:
        return ""
    own = status.error if status.state in DECIDED else escape(status.error)
    reason = f": {escape(status.ending_reason)}" if status.ending_reason else ""
    return own + reason


def cannot_post_advice(channel: str, error: str, needed: str | None = None) -> str | None:
    """What to tell a person by DM when Slack will not let the bot answer where they asked."""
    if error in ("not_in_channel", "channel_not_found"):
        return (
            f"I'm not in <#{channel}>, so I can't answer there. Invite me with "
            "`/invite @shipmate` and ask again."
        )
    if error == "missing_scope":
        return (
            f"I'm missing a Slack permission for that ({needed or 'a scope'}). Ask an admin "
            "to reinstall me with the scopes in deploy/slack-manifest.yml."
        )
    return None
