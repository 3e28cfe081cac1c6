"""The App Home: what waits on this person's approval, and their recent deliveries."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from slack_views.card import STATE_LINE, button_value, card_title
from slack_views.text import workflow_url
from workflows.models import DeliveryStatus, GateState


def home_view(
    recent: list[DeliveryStatus], waiting: list[DeliveryStatus], temporal_ui: str
) -> dict:
    blocks: list[Block] = [HeaderBlock(text="Waiting on your approval")]
    if not waiting:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="Nothing right now.")))
    for status in waiting[:10]:
        gate = next(g for g in status.gates if g.state == GateState.open)
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{card_title(status)}* → {gate.environment}"
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
                    text=f"*{card_title(status)}* · {STATE_LINE[status.state]} · "
                    f"<{workflow_url(temporal_ui, status.delivery_id)}|{status.delivery_id}>"
                )
            )
        )
    return {"type": "home", "blocks": [b.to_dict() for b in blocks[:100]]}
