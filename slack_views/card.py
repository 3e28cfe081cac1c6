"""The status card: one message per delivery, edited in place as it moves.

Built with slack_sdk.models.blocks (pure data classes, no client), which checks Slack's
limits when the blocks are serialised. Every view is drawn from workflow state only.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from slack_views.decision_modal import APPROVE_WITH_COMMENT, REJECT
from slack_views.text import escape, problem, workflow_url
from workflows.environments import is_production
from workflows.models import (
    DeliveryState,
    DeliveryStatus,
    GateState,
    GateStatus,
    Operation,
    StageState,
)

STAGE_EMOJI = {
    StageState.pending: ":white_circle:",
    StageState.running: ":hourglass_flowing_sand:",
    StageState.waiting: ":raised_hand:",
    StageState.succeeded: ":white_check_mark:",
    StageState.failed: ":x:",
    StageState.skipped: ":fast_forward:",
    StageState.cancelled: ":no_entry_sign:",
}
STATE_LINE = {
    DeliveryState.running: ":gear: in progress",
    DeliveryState.waiting_for_approval: ":raised_hand: waiting for approval",
    DeliveryState.succeeded: ":rocket: delivered",
    DeliveryState.failed: ":x: failed",
    DeliveryState.rejected: ":no_entry: rejected",
    DeliveryState.expired: ":hourglass: expired",
    DeliveryState.cancelled: ":no_entry_sign: cancelled",
}
APPROVE_LOSING_DATA = "approve_losing_data"  # approves, confirming what the delivery loses
MAX_TEXT = 2900  # a section's text may hold 3000 characters


def button_value(delivery_id: str, environment: str = "") -> str:
    """What a button carries: the workflow id travels with it, so no bot memory is needed."""
    return json.dumps({"d": delivery_id, "e": environment}, separators=(",", ":"))


def read_button_value(value: str) -> tuple[str, str]:
    data = json.loads(value)
    if not isinstance(data, dict) or not isinstance(data.get("d"), str):
        raise ValueError("not a Shipmate button")
    return data["d"], str(data.get("e") or "")


def status_card(status: DeliveryStatus, temporal_ui: str) -> list[Block]:
    """One card per delivery, edited in place as it moves."""
    blocks: list[Block] = [
        HeaderBlock(text=card_title(status)[:150]),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{STATE_LINE[status.state]}* · requested by <@{status.requester}>"
            )
        ),
    ]
    if status.deployments:  # where the service is: where the eye lands, not in the fine print
        live = "\n".join(f":link: *{d.environment}*: <{d.url}>" for d in status.deployments)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=live[:MAX_TEXT])))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=_stage_lines(status))))
    if status.teardown_plan and not status.torn_down:
        deletes = f":wastebasket: Approving deletes {status.teardown_plan}. It cannot be undone."
        blocks.append(SectionBlock(text=MarkdownTextObject(text=deletes[:MAX_TEXT])))
    if status.data_loss and status.state == DeliveryState.waiting_for_approval:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=data_loss_text(status))))
    if status.error:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=f":warning: {problem(status)}"[:MAX_TEXT]))
        )
    for gate in status.gates:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=gate_line(gate))]))
    links = [f"<{workflow_url(temporal_ui, status.delivery_id)}|workflow {status.delivery_id}>"]
    if status.image:
        links.append(f"image `{status.image}`")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(links)[:MAX_TEXT])]))
    buttons = _buttons(status)
    if buttons:
        blocks += [DividerBlock(), ActionsBlock(block_id="delivery_actions", elements=buttons)]
    return blocks


def card_title(status: DeliveryStatus) -> str:
    service = status.service or "new service"
    environments = ", ".join(g.environment for g in status.gates)
    if status.operation == Operation.roll_back and status.version:
        return f"{service}: roll back {environments} to v{status.version}"
    if status.operation == Operation.tear_down:
        return f"{service}: tear down {environments}".rstrip()
    return service + (f" v{status.version}" if status.version else "")


def card_text(status: DeliveryStatus) -> str:
    """The plain-text fallback (notifications, screen readers): words, no emoji codes."""
    return f"{card_title(status)}: {STATE_LINE[status.state].split(' ', 1)[1]}"


def _stage_lines(status: DeliveryStatus) -> str:
    lines = []
    for stage in status.stages:
        took = f" ({stage.duration_seconds:.0f}s)" if stage.duration_seconds is not None else ""
        detail = f" · {stage.detail}" if stage.detail and stage.name not in ("push",) else ""
        # the state in words too: for screen readers, and for anyone who can't tell the
        # emoji apart
        lines.append(f"{STAGE_EMOJI[stage.state]} {stage.name}: {stage.state.value}{took}{detail}")
    return "\n".join(lines)[:MAX_TEXT]


def data_loss_text(status: DeliveryStatus) -> str:
    lost = "\n".join(f"• {escape(loss)}" for loss in status.data_loss)
    if status.changing:
        return (
            ":warning: *This change drops data.* Approving it means accepting:\n"
            f"{lost}\nIf that is not meant, reject it and ask again."
        )[:MAX_TEXT]
    return (
        ":warning: *This roll back loses data.* Approving it means accepting:\n"
        f"{lost}\nOr reject it and restore a backup instead."
    )[:MAX_TEXT]


def approve_confirm(status: DeliveryStatus, env: str) -> ConfirmObject | None:
    """Production, every tear-down and a roll back that loses data ask once more, naming
    what goes."""
    if status.data_loss:
        doing = "Changing" if status.changing else "Rolling back"
        lost = f"{doing} loses: {'; '.join(status.data_loss)}"
        return ConfirmObject(
            title=f"Lose data in {env}?"[:100],
            text=_within_dialog(lost),
            confirm="Change it, lose it" if status.changing else "Roll back, lose it",
            deny="Keep it",
        )
    if status.operation == Operation.tear_down:
        return ConfirmObject(
            title=f"Tear down {env}?"[:100],
            text=_within_dialog(f"This deletes {status.teardown_plan}.", " It cannot be undone."),
            confirm="Tear it down",
            deny="Keep it",
        )
    gate = status.gate(env)
    if not (gate.is_production if gate else is_production(env)):
        return None
    return ConfirmObject(
        title="Deploy to production?",
        text=f"{status.service} v{status.version} goes to {env}.",
        confirm="Approve",
        deny="Not yet",
    )


def _within_dialog(text: str, ending: str = "", limit: int = 300) -> str:
    """Slack cuts a confirm dialog's text at 300 characters: a long list is shortened
    (the card has all of it) so that the ending, the warning, is never the part lost."""
    room = limit - len(ending)
    return (text if len(text) <= room else text[: room - 1] + "…") + ending


def gate_line(gate: GateStatus) -> str:
    """Who must act and by when: the approvers by name, how many more are needed, and the
    expiry in each reader's own time zone."""
    done = ", ".join(f"<@{u}>" for u in gate.approvals) or "nobody yet"
    line = f"*{gate.environment}* gate: {gate.summary()} · approved by {done}"
    if gate.state != GateState.open:
        return line
    may = [f"<@{u}>" for u in gate.approvers if u not in gate.approvals]
    may += [_group(g) for g in gate.approver_groups]
    needed = gate.required_approvals - len(gate.approvals)
    line += f" · {needed} more needed from {', '.join(may) or 'nobody'}"
    if gate.expires_at:
        line += f" · {expiry(gate.expires_at)}"
    return line


def expiry(at: datetime) -> str:
    """When a gate expires, shown in each reader's own time zone (UTC where it can't be)."""
    fallback = at.strftime("%Y-%m-%d %H:%M UTC")
    return f"expires <!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def gate_buttons(status: DeliveryStatus, env: str) -> list[ButtonElement]:
    """Approve (confirmed for production), approve with a comment, reject with a reason:
    the same wherever an approver meets the gate (card, direct message, App Home). A
    tear-down is approved only through the confirm that names what it deletes, and a roll
    back that loses data only through its own button, whose confirm names the loss."""
    value = button_value(status.delivery_id, env)
    approve = ButtonElement(
        text=f"Approve {env}"[:75],
        action_id="approve",
        style="primary",
        value=value,
        confirm=approve_confirm(status, env),
    )
    if status.data_loss:
        approve = ButtonElement(
            text=(
                f"Change {env}, losing data" if status.changing else f"Roll back {env}, losing data"
            )[:75],
            action_id=APPROVE_LOSING_DATA,
            style="danger",
            value=value,
            confirm=approve_confirm(status, env),
        )
    comment = ButtonElement(
        text="Approve with comment…", action_id=APPROVE_WITH_COMMENT, value=value
    )
    # The reason modal is its own confirmation.
    reject = ButtonElement(text="Reject…", action_id=REJECT, style="danger", value=value)
    if status.operation == Operation.tear_down or status.data_loss:
        return [approve, reject]
    return [approve, comment, reject]


def _group(group: str) -> str:
    """A user group: a mention when it is Slack's id (S…), else its handle."""
    return f"<!subteam^{group}>" if re.fullmatch(r"S[A-Z0-9]{6,}", group) else f"@{group}"


def _buttons(status: DeliveryStatus) -> list[ButtonElement]:
    buttons = []
    open_gate = next((g for g in status.gates if g.state == GateState.open), None)
    if open_gate and status.state == DeliveryState.waiting_for_approval:
        buttons += gate_buttons(status, open_gate.environment)
    if status.in_flight:
        if status.retry_possible:
            buttons.append(
                ButtonElement(
                    text="Retry", action_id="retry", value=button_value(status.delivery_id)
                )
            )
        buttons.append(
            ButtonElement(
                text="Cancel",
                action_id="cancel",
                value=button_value(status.delivery_id),
                confirm=ConfirmObject(
                    title="Cancel this delivery?",
                    text="Running stages stop.",
                    confirm="Cancel it",
                    deny="Keep going",
                ),
            )
        )
    return buttons
