"""Block Kit views: the status card, thread announcements, answers, and the App Home.

Built with slack_sdk.models.blocks, which checks Slack's limits (header length, block
counts) when the blocks are serialised. Every view is drawn from workflow state only.
"""

from __future__ import annotations

import json

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

from workflows.models import DeliveryState, DeliveryStatus, GateStatus, StageState

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
PROD = ("prod", "production")
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
    title = f"{status.service or 'new service'}" + (f" v{status.version}" if status.version else "")
    blocks: list[Block] = [
        HeaderBlock(text=title[:150]),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{STATE_LINE[status.state]}* · requested by <@{status.requester}>"
            )
        ),
        SectionBlock(text=MarkdownTextObject(text=_stage_lines(status))),
    ]
    if status.error:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=f":warning: {status.error}"[:MAX_TEXT]))
        )
    for gate in status.gates:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_gate_line(gate))]))
    links = [f"<{d.url}|{d.environment}: {d.url}>" for d in status.deployments]
    links.append(f"<{temporal_ui}/workflows/{status.delivery_id}|workflow {status.delivery_id}>")
    if status.image:
        links.append(f"image `{status.image}`")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(links)[:MAX_TEXT])]))
    buttons = _buttons(status)
    if buttons:
        blocks += [DividerBlock(), ActionsBlock(block_id="delivery_actions", elements=buttons)]
    return blocks


def card_text(status: DeliveryStatus) -> str:
    """The plain-text fallback (notifications, screen readers)."""
    return f"{status.service} v{status.version}: {STATE_LINE[status.state]}"


def _stage_lines(status: DeliveryStatus) -> str:
    lines = []
    for stage in status.stages:
        took = f" ({stage.duration_seconds:.0f}s)" if stage.duration_seconds is not None else ""
        detail = f" · {stage.detail}" if stage.detail and stage.name not in ("push",) else ""
        lines.append(f"{STAGE_EMOJI[stage.state]} {stage.name}{took}{detail}")
    return "\n".join(lines)[:MAX_TEXT]


def _gate_line(gate: GateStatus) -> str:
    who = ", ".join(f"<@{u}>" for u in gate.approvals) or "nobody yet"
    return f"*{gate.environment}* gate: {gate.summary()} · approved by {who}"


def _buttons(status: DeliveryStatus) -> list[ButtonElement]:
    buttons = []
    open_gate = next((g for g in status.gates if g.state == "open"), None)
    if open_gate and status.state == DeliveryState.waiting_for_approval:
        env = open_gate.environment
        prod = env in PROD
        buttons.append(
            ButtonElement(
                text=f"Approve {env}",
                action_id="approve",
                style="primary",
                value=button_value(status.delivery_id, env),
                confirm=ConfirmObject(
                    title="Deploy to production?",
                    text=f"{status.service} v{status.version} goes to {env}.",
                    confirm="Approve",
                    deny="Not yet",
                )
                if prod
                else None,
            )
        )
        buttons.append(
            ButtonElement(
                text="Reject",
                action_id="reject",
                style="danger",
                value=button_value(status.delivery_id, env),
                confirm=ConfirmObject(
                    title="Reject this deploy?",
                    text=f"{status.service} v{status.version} will not go to {env}.",
                    confirm="Reject",
                    deny="Keep it",
                ),
            )
        )
    if status.state in (
        DeliveryState.running,
        DeliveryState.waiting_for_approval,
        DeliveryState.failed,
    ):
        if status.state == DeliveryState.failed:
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


def announcement(status: DeliveryStatus, moment: str) -> str | None:
    """A thread reply for an important moment: gate waiting, failure, deployed, ended."""
    kind, _, env = moment.partition(":")
    if kind == "gate":
        gate = next((g for g in status.gates if g.environment == env), None)
        approvers = " ".join(f"<@{u}>" for u in (gate.approvers if gate else [])) or "Approvers:"
        return (
            f"{approvers} {status.service} v{status.version} is ready for *{env}*. "
            "Approve or reject on the card above."
        )
    if kind == "failed":
        tail = f"\n```{status.log_tail[-2500:]}```" if status.log_tail else ""
        return (f":x: {status.error}{tail}\nReply `retry` once it is fixed, or `cancel`.")[:3900]
    if kind == "deployed":
        deployment = next((d for d in status.deployments if d.environment == env), None)
        return (
            f":rocket: {status.service} v{status.version} is live in *{env}*: {deployment.url}"
            if deployment
            else None
        )
    if kind == "audit":
        entry = status.audit[int(env)]
        where = f" {entry.environment}" if entry.environment != "-" else ""
        reason = f": {entry.reason}" if entry.reason else ""
        return f"<@{entry.user}> {entry.decision}{where}{reason}"
    if kind in ("rejected", "expired", "cancelled"):
        return f":information_source: {status.error}"
    return None


def answer_blocks(text: str) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=text[:MAX_TEXT]))]


def home_view(
    recent: list[DeliveryStatus], waiting: list[DeliveryStatus], temporal_ui: str
) -> dict:
    blocks: list[Block] = [HeaderBlock(text="Waiting on your approval")]
    if not waiting:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="Nothing right now.")))
    for status in waiting[:10]:
        gate = next(g for g in status.gates if g.state == "open")
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{status.service} v{status.version}* → {gate.environment}"
                    f" · requested by <@{status.requester}>"
                ),
                accessory=ButtonElement(
                    text="Approve",
                    action_id="approve",
                    style="primary",
                    value=button_value(status.delivery_id, gate.environment),
                ),
            )
        )
    blocks += [DividerBlock(), HeaderBlock(text="Your recent deliveries")]
    if not recent:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="None yet. Mention @shipmate in a channel to start one."
                )
            )
        )
    for status in recent[:15]:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{status.service} v{status.version}* · {STATE_LINE[status.state]} · "
                    f"<{temporal_ui}/workflows/{status.delivery_id}|{status.delivery_id}>"
                )
            )
        )
    return {"type": "home", "blocks": [b.to_dict() for b in blocks[:100]]}
