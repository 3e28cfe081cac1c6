"""The modal behind *Approve with comment* and *Reject*: a decision that carries words.

What the person writes goes into the delivery's audit trail and its thread (escaped
there). Where the button sat travels in the modal's private metadata, which only the
app can set, so the workflow's validator judges the submission exactly as it would the
click that opened it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)

APPROVE_WITH_COMMENT = "approve_with_comment"  # the button's action_id
REJECT = "reject"
CALLBACK = "decision"  # the modal's callback_id
WORDS_BLOCK, WORDS_INPUT = "words", "text"
MAX_WORDS = 500


@dataclass(frozen=True)
class Opened:
    """What was clicked and where: enough to make the decision when the modal is sent."""

    delivery_id: str
    environment: str
    verb: str  # approve | reject
    origin: str
    channel: str | None
    message_ts: str | None
    thread_ts: str | None

    def metadata(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_metadata(cls, text: str) -> Opened:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("verb") not in ("approve", "reject"):
            raise ValueError("not a decision modal")
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})


def decision_modal(opened: Opened) -> dict:
    rejecting = opened.verb == "reject"
    env, delivery = opened.environment, opened.delivery_id
    what = f"the *{env}* deploy of `{delivery}`"
    intro = (
        f"You are rejecting {what}. Say why: your reason goes in the thread and the audit trail."
        if rejecting
        else f"You are approving {what}. Your comment goes in the thread and the audit trail."
    )
    words = InputBlock(
        block_id=WORDS_BLOCK,
        label="Reason" if rejecting else "Comment",
        element=PlainTextInputElement(
            action_id=WORDS_INPUT,
            multiline=True,
            max_length=MAX_WORDS,
            placeholder="e.g. freeze week, ship on Monday"
            if rejecting
            else "e.g. checked the diff",
        ),
    )
    title = f"{'Reject' if rejecting else 'Approve'} {env}"
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": {"type": "plain_text", "text": title if len(title) <= 24 else title[:23] + "…"},
        "submit": {"type": "plain_text", "text": "Reject" if rejecting else "Approve"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": opened.metadata(),
        "blocks": [SectionBlock(text=MarkdownTextObject(text=intro)).to_dict(), words.to_dict()],
    }


def written_words(view: dict) -> str:
    """The comment or reason the person typed, trimmed."""
    values = (view.get("state") or {}).get("values") or {}
    return str((values.get(WORDS_BLOCK) or {}).get(WORDS_INPUT, {}).get("value") or "").strip()
