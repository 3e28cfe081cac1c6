"""Shipmate's private question when casual words sound like a decision.

"lgtm" in a thread decides nothing: its writer privately gets "Approve staging for
orders-api v3?" with a button, and only the click acts (bound to this thread's channel).
"""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from slack_views.card import button_value
from workflows.models import DeliveryStatus

DISMISS = "dismiss"


def decision_question(status: DeliveryStatus, verb: str, environment: str = "") -> str:
    what = f"{status.service} v{status.version}"
    return {
        "approve": f"Approve {environment} for {what}?",
        "reject": f"Reject {environment} for {what}?",
        "cancel": f"Cancel the delivery of {what}?",
        "retry": f"Retry {what} from the stage that failed?",
    }[verb]


def decision_prompt(status: DeliveryStatus, verb: str, environment: str = "") -> list[Block]:
    question = decision_question(status, verb, environment)
    label = {"approve": f"Approve {environment}", "reject": f"Reject {environment}"}.get(
        verb, verb.capitalize()
    )
    return [
        SectionBlock(text=f"{question} Nothing happens unless you click."),
        ActionsBlock(
            block_id="decision_prompt",
            elements=[
                ButtonElement(
                    text=label[:75],
                    action_id=verb,
                    style="danger" if verb in ("reject", "cancel") else "primary",
                    value=button_value(status.delivery_id, environment),
                ),
                ButtonElement(text="Not now", action_id=DISMISS, value="-"),
            ],
        ),
    ]
