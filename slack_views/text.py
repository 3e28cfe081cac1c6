"""Text people wrote, made inert before Shipmate posts it.

Slack reads `<!channel>`, `<@U…>` and `<https://…|label>` as a mass ping, a mention or
a disguised link. Escaping `&`, `<` and `>` is what Slack asks of apps, so only
Shipmate's own mentions ping anyone.
"""

from __future__ import annotations

from workflows.models import DeliveryState, DeliveryStatus

# Endings whose error Shipmate wrote itself, naming who decided.
DECIDED = (DeliveryState.rejected, DeliveryState.cancelled, DeliveryState.expired)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
