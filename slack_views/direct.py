"""Direct messages to approvers: a gate waits on them, or is about to expire.

When a gate opens, each approver privately gets the card's decision buttons and a link
to the thread; when the gate closes, that message is edited to say how, so no stale
button is left in anyone's DMs. A reminder before the gate expires names what waits.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from slack_views.card import MAX_TEXT, card_title, expiry, gate_buttons, gate_line
from workflows.models import DeliveryStatus, GateState, GateStatus

DIRECT_ACTIONS = "direct_actions"  # the block_id that marks a click as made in a DM
MAX_DIRECT = 20  # approvers told privately per gate; the rest see the thread
CLOSED_WORDS = {
    GateState.approved: ":white_check_mark: approved",
    GateState.rejected: ":no_entry: rejected",
    GateState.expired: ":hourglass: expired without a decision",
    GateState.cancelled: ":no_entry_sign: cancelled",
    GateState.skipped: "skipped",
}


def approvers_to_tell(status: DeliveryStatus, gate: GateStatus) -> list[str]:
    """Who gets a gate's DM: its approvers (people, not '*'), but not the requester, who
    is in the thread already."""
    people = [u for u in gate.approvers if u.startswith(("U", "W")) and u != status.requester]
    return people[:MAX_DIRECT]


def waiting_on(status: DeliveryStatus, gate: GateStatus) -> list[str]:
    """The approvers a gate still waits on: those told who have not approved yet."""
    return [u for u in approvers_to_tell(status, gate) if u not in gate.approvals]


def thread_link(link: str | None) -> str:
    return f" · <{link}|open the thread>" if link else ""


def gate_message(status: DeliveryStatus, gate: GateStatus, link: str | None) -> list[Block]:
    """The approver's DM: buttons while the gate is open, how it ended once it is not."""
    title = f"*{card_title(status)}* → *{gate.environment}*"
    if gate.state != GateState.open:
        ended = CLOSED_WORDS.get(gate.state, str(gate.state))
        by = ", ".join(f"<@{u}>" for u in gate.approvals)
        who = f" by {by}" if gate.state == GateState.approved and by else ""
        text = f"{title}: {ended}{who}{thread_link(link)}"
        return [SectionBlock(text=MarkdownTextObject(text=text[:MAX_TEXT]))]
    asked = f"{title} waits on your approval · asked by <@{status.requester}>{thread_link(link)}"
    return [
        SectionBlock(text=MarkdownTextObject(text=asked[:MAX_TEXT])),
        ContextBlock(elements=[MarkdownTextObject(text=gate_line(gate)[:MAX_TEXT])]),
        ActionsBlock(block_id=DIRECT_ACTIONS, elements=gate_buttons(status, gate.environment)),
    ]


def gate_message_text(status: DeliveryStatus, gate: GateStatus) -> str:
    """The fallback and notification text, in words."""
    if gate.state == GateState.open:
        return f"{card_title(status)} waits on your approval for {gate.environment}"
    ended = CLOSED_WORDS.get(gate.state, str(gate.state)).split(" ", 1)[-1]
    return f"{card_title(status)} → {gate.environment}: {ended}"


def reminder(status: DeliveryStatus, gate: GateStatus, link: str | None) -> str:
    """A private nudge before the gate expires; the buttons are on the earlier DM."""
    return (
        f":alarm_clock: Reminder: *{card_title(status)}* → *{gate.environment}* still waits on "
        f"your approval and {_expires(gate)}.{thread_link(link)}"
    )


def thread_reminder(status: DeliveryStatus, gate: GateStatus) -> str:
    people = " ".join(f"<@{u}>" for u in waiting_on(status, gate)) or "Approvers:"
    return (
        f":alarm_clock: {people} the *{gate.environment}* gate for {card_title(status)} "
        f"{_expires(gate)}. Approve or reject on the card above."
    )


def _expires(gate: GateStatus) -> str:
    return expiry(gate.expires_at) if gate.expires_at else "expires soon"
