"""A plan that waits for its requester: shown when Shipmate did not use every word of the
request, with *Build it* (exactly this plan) and *Edit…* (a modal holding the plan text,
read exactly when sent, refused with the line and the reason when it does not read).

Both say the plan in the thread as an answer, so a restarted bot re-reading the thread
finds what was chosen; the plan language (understanding.plan_language) is what travels.
"""

from __future__ import annotations

import json

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)

from slack_views.card import MAX_TEXT
from slack_views.plan import ANSWER, spec_summary
from slack_views.text import escape
from understanding.plan_language import render
from workflows.spec import ServiceSpec

EDIT = "plan_edit"  # the Edit… button's action_id, and the modal's callback_id
PLAN_BLOCK, PLAN_INPUT = "plan", "text"
MAX_PLAN = 1900  # a button's value holds 2,000 characters; a longer plan starts at once


def plan_to_check(spec: ServiceSpec, notes: list[str]) -> tuple[str, list]:
    """The words, and the blocks with the two buttons, of a plan that waits."""
    plan = render(spec)
    said = "".join(f"_{escape(note)}_\n" for note in notes)
    text = (
        f"{said}Here is what I would build. *Build it* starts exactly this; *Edit…* lets "
        f"you change it first.\n{spec_summary(spec)}\n```{escape(plan)}```"
    )
    buttons = ActionsBlock(
        block_id="plan_check",
        elements=[
            ButtonElement(text="Build it", action_id=f"{ANSWER}_0", value=plan, style="primary"),
            ButtonElement(text="Edit…", action_id=EDIT, value=plan),
        ],
    )
    section = SectionBlock(text=MarkdownTextObject(text=text[:MAX_TEXT]))
    return text, [section, buttons]


def plan_modal(plan: str, channel: str, thread_ts: str, message_ts: str) -> dict:
    where = json.dumps({"channel": channel, "thread_ts": thread_ts, "message_ts": message_ts})
    field = InputBlock(
        block_id=PLAN_BLOCK,
        label="The plan",
        element=PlainTextInputElement(
            action_id=PLAN_INPUT, multiline=True, initial_value=plan, max_length=3000
        ),
        hint="One thing a line: service, database, api, auth, deploy, Entity: fields, "
        "Entity keeps …, events.",
    )
    return {
        "type": "modal",
        "callback_id": EDIT,
        "title": {"type": "plain_text", "text": "Edit the plan"},
        "submit": {"type": "plain_text", "text": "Build it"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": where,
        "blocks": [field.to_dict()],
    }


def where_from(view: dict) -> dict | None:
    try:
        where = json.loads(view.get("private_metadata") or "")
    except (ValueError, TypeError):
        return None
    if not isinstance(where, dict) or not all(where.get(k) for k in ("channel", "thread_ts")):
        return None
    return where


def written_plan(view: dict) -> str:
    values = (view.get("state") or {}).get("values") or {}
    return str((values.get(PLAN_BLOCK) or {}).get(PLAN_INPUT, {}).get("value") or "")
