"""What Shipmate says in Slack, as the outbox (workflows.outbox_workflow) carries it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class MessageKind(StrEnum):
    once = "once"  # sent at most once per key
    card = "card"  # posted once per key, then edited; queued edits collapse


class OutgoingMessage(BaseModel):
    """One thing Shipmate says in Slack, keyed so that it is said once."""

    key: str
    kind: MessageKind = MessageKind.once
    channel: str
    thread_ts: str | None = None
    text: str
    blocks: list[dict] | None = None
    private_to: str | None = Field(None, description="Only this user sees it (ephemeral)")
    edit_ts: str | None = Field(None, description="The card's ts, when the sender knows it")
    reply_to: str | None = Field(None, description="Workflow told the card's ts once posted")
    on_behalf_of: str | None = Field(None, description="Told by DM if the bot cannot post")
    broadcast: bool = Field(False, description="A thread reply also shown in the channel")
    delivery_id: str | None = Field(None, description="Its delivery, linked if its thread is gone")


class SlackCall(BaseModel):
    message: OutgoingMessage
    edit_ts: str | None = None
    posted_again: bool = Field(False, description="The card was deleted once: say so on it")


class SlackSent(BaseModel):
    ts: str | None = None


class OutboxState(BaseModel):
    channel: str
    queue: list[OutgoingMessage] = Field(default_factory=list)
    sent: list[str] = Field(default_factory=list, description="Recent keys, oldest first")
    cards: dict[str, str] = Field(default_factory=dict, description="Card key -> its ts")
    posted_again: list[str] = Field(
        default_factory=list, description="Cards posted again after they were deleted"
    )
    edits: dict[str, OutgoingMessage] = Field(
        default_factory=dict, description="Card key -> its newest edit not sent yet"
    )
    history_limit: int = Field(5000, description="Events before continuing as new")
    carry_bytes: int = Field(
        200_000,
        description="Backlog carried through continue-as-new; a larger one is stashed in "
        "parts of at most this size (each a payload of its own)",
    )
    stashed: list[str] = Field(
        default_factory=list, description="Where the queue and edits wait, part by part, in order"
    )
    forget: list[str] = Field(
        default_factory=list,
        description="Stashed parts no run will read again, for this run to delete",
    )


class Backlog(BaseModel):
    """An outbox's queue and unsent edits, kept outside its history when too big to carry
    (Temporal refuses a payload over 2 MB; a long Slack outage can queue more)."""

    outbox: str
    queue: list[OutgoingMessage] = Field(default_factory=list)
    edits: dict[str, OutgoingMessage] = Field(default_factory=dict)
