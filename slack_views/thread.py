"""Thread replies: the moments a delivery announces, and answers to questions."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from slack_views.card import MAX_TEXT
from slack_views.direct import thread_reminder
from slack_views.text import escape, problem
from workflows.models import DeliveryStatus, Operation
from workflows.moments import Moment, MomentKind


def announcement(status: DeliveryStatus, moment: Moment) -> str | None:
    """A thread reply for an important moment: gate waiting, failure, deployed, ended."""
    env = moment.environment
    if moment.kind == MomentKind.gate_open:
        gate = next((g for g in status.gates if g.environment == env), None)
        approvers = " ".join(f"<@{u}>" for u in (gate.approvers if gate else [])) or "Approvers:"
        return f"{approvers} {_asks(status, env)} Approve or reject on the card above."
    if moment.kind == MomentKind.gate_reminder:
        gate = next((g for g in status.gates if g.environment == env), None)
        return thread_reminder(status, gate) if gate else None
    if moment.kind == MomentKind.failed:
        tail = f"\n```{escape(status.log_tail[-2500:])}```" if status.log_tail else ""
        advice = (
            "Once it is fixed, say `@shipmate retry` or use the card's buttons."
            if status.retry_possible
            else "This delivery has ended; ask again once that is fixed."
        )
        return f":x: {problem(status)}{tail}\n{advice}"[:3900]
    if moment.kind == MomentKind.deployed:
        deployment = next((d for d in status.deployments if d.environment == env), None)
        if deployment is None:
            return None
        if deployment.rolled_back_from is not None:
            return (
                f":rewind: {status.service} is rolled back to v{status.version} in *{env}* "
                f"(from v{deployment.rolled_back_from}): {deployment.url}"
            )
        return f":rocket: {status.service} v{status.version} is live in *{env}*: {deployment.url}"
    if moment.kind == MomentKind.decision:
        entry = status.audit[moment.number]
        where = f" {entry.environment}" if entry.environment != "-" else ""
        reason = f": {escape(entry.reason)}" if entry.reason else ""
        return f"<@{entry.user}> {entry.decision}{where}{reason}"
    if moment.kind == MomentKind.ended:
        return f":information_source: {problem(status)}"
    return None


def _asks(status: DeliveryStatus, env: str) -> str:
    if status.operation == Operation.roll_back:
        return f"{status.service} wants to roll *{env}* back to v{status.version}."
    if status.operation == Operation.tear_down:
        return f"{status.service} asks to tear down *{env}*: {status.teardown_plan} goes."
    return f"{status.service} v{status.version} is ready for *{env}*."


def answer_blocks(text: str) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=text[:MAX_TEXT]))]


def answer_parts(text: str, limit: int = MAX_TEXT) -> list[str]:
    """A long answer as several messages, split between lines (a line too long for one
    message, between words), so no line is cut in half and nothing is dropped."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        pieces = _words_within(line, limit) if len(line) > limit else [line]
        for piece in pieces:
            joined = f"{current}\n{piece}" if current else piece
            if len(joined) <= limit:
                current = joined
                continue
            parts.append(current)
            current = piece
    return [*parts, current] if current or not parts else parts


def _words_within(line: str, limit: int) -> list[str]:
    pieces, current = [], ""
    for word in line.split(" "):
        while len(word) > limit:  # one unbroken word longer than a message
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:limit])
            word = word[limit:]
        joined = f"{current} {word}" if current else word
        if len(joined) <= limit:
            current = joined
        else:
            pieces.append(current)
            current = word
    return [*pieces, current] if current else pieces
