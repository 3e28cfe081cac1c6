"""The Roll back button under a "v2 is live in staging" message.

It is offered only when the service has an earlier version to put back there, and it
carries what Shipmate wrote, never what a person did: the service, the environment and
the delivery whose deploy the message announced (a click on an old message must not
roll back a newer deploy). The click asks exactly what `@shipmate roll back orders-api
in staging` asks (bot.rollback_button).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    SectionBlock,
)

from slack_views.card import MAX_TEXT
from workflows.spec import ENVIRONMENT_NAME, SERVICE_NAME

ROLL_BACK = "roll_back_live"  # the button's action_id
DELIVERY_ID = re.compile(r"^delivery/[a-z0-9-]+/[a-z0-9-]+$")


@dataclass(frozen=True)
class LiveDeploy:
    """The announced deploy, as read back from a click's button value."""

    service: str
    environment: str
    delivery_id: str


def rollback_value(service: str, environment: str, delivery_id: str) -> str:
    return json.dumps({"s": service, "e": environment, "d": delivery_id}, separators=(",", ":"))


def read_rollback_value(value: str) -> LiveDeploy:
    """The button's value, checked to be names Shipmate writes; ValueError otherwise."""
    data = json.loads(value)
    if not isinstance(data, dict):
        raise ValueError("not a Roll back button")
    service, env, delivery_id = (str(data.get(k) or "") for k in ("s", "e", "d"))
    if not (SERVICE_NAME.fullmatch(service) and ENVIRONMENT_NAME.fullmatch(env)):
        raise ValueError("not a Roll back button")
    if not DELIVERY_ID.fullmatch(delivery_id):
        raise ValueError("not a Roll back button")
    return LiveDeploy(service, env, delivery_id)


def live_blocks(
    text: str, service: str, environment: str, delivery_id: str, live: int, target: int
) -> list[Block]:
    """The announcement with its button: `live` serves now, `target` is what goes back."""
    return [
        SectionBlock(text=MarkdownTextObject(text=text[:MAX_TEXT])),
        ActionsBlock(
            block_id="live_actions",
            elements=[
                ButtonElement(
                    text=f"Roll back to v{target}",
                    action_id=ROLL_BACK,
                    value=rollback_value(service, environment, delivery_id),
                    confirm=ConfirmObject(
                        title=f"Roll back {environment}?"[:100],
                        text=(
                            f"This asks to put {service} v{target} back in {environment} "
                            f"instead of v{live}. Its approvers decide on the roll back's card."
                        )[:300],
                        confirm="Ask to roll back",
                        deny=f"Keep v{live}",
                    ),
                )
            ],
        ),
    ]
