"""Thread replies: the moments a delivery announces, and answers to questions."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from slack_views.card import MAX_TEXT
from workflows.models import DeliveryStatus
from workflows.moments import Moment, MomentKind


def announcement(status: DeliveryStatus, moment: Moment) -> str | None:
    """A thread reply for an important moment: gate waiting, failure, deployed, ended."""
    env = moment.environment
    if moment.kind == MomentKind.gate_open:
        gate = next((g for g in status.gates if g.environment == env), None)
        approvers = " ".join(f"<@{u}>" for u in (gate.approvers if gate else [])) or "Approvers:"
        return (
            f"{approvers} {status.service} v{status.version} is ready for *{env}*. "
            "Approve or reject on the card above."
        )
    if moment.kind == MomentKind.failed:
        tail = f"\n```{status.log_tail[-2500:]}```" if status.log_tail else ""
        return (f":x: {status.error}{tail}\nReply `retry` once it is fixed, or `cancel`.")[:3900]
    if moment.kind == MomentKind.deployed:
        deployment = next((d for d in status.deployments if d.environment == env), None)
        return (
            f":rocket: {status.service} v{status.version} is live in *{env}*: {deployment.url}"
            if deployment
            else None
        )
    if moment.kind == MomentKind.decision:
        entry = status.audit[moment.number]
        where = f" {entry.environment}" if entry.environment != "-" else ""
        reason = f": {entry.reason}" if entry.reason else ""
        return f"<@{entry.user}> {entry.decision}{where}{reason}"
    if moment.kind == MomentKind.ended:
        return f":information_source: {status.error}"
    return None


def answer_blocks(text: str) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=text[:MAX_TEXT]))]
