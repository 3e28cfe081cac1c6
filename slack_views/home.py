"""The App Home: what waits on this person's approval, and their recent deliveries.

Each waiting gate carries the card's three decisions (approve, confirmed for production;
approve with a comment; reject with a reason) and a link to the delivery's thread.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from slack_views.card import STATE_LINE, card_title, gate_buttons, gate_line
from slack_views.direct import thread_link
from slack_views.text import workflow_url
from workflows.models import DeliveryStatus, GateState


def home_view(
    recent: list[DeliveryStatus],
    waiting: list[DeliveryStatus],
    temporal_ui: str,
    links: dict[str, str],
) -> dict:
    """`links`: each delivery's thread permalink, by delivery id, where Slack gave one."""
    blocks: list[Block] = [HeaderBlock(text="Waiting on your approval")]
    if not waiting:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="Nothing right now.")))
    for status in waiting[:10]:
        gate = next(g for g in status.gates if g.state == GateState.open)
        text = (
            f"*{card_title(status)}* → *{gate.environment}* · requested by "
            f"<@{status.requester}>{thread_link(links.get(status.delivery_id))}\n"
            f"{gate_line(gate)}"
        )
        blocks += [
            SectionBlock(text=MarkdownTextObject(text=text)),
            ActionsBlock(elements=gate_buttons(status, gate.environment)),
        ]
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
                    f"{thread_link(links.get(status.delivery_id))}"
                )
            )
        )
    return {"type": "home", "blocks": [b.to_dict() for b in blocks[:100]]}
