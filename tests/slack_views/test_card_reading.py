"""A person reading only the card knows what is happening, who must act and by when,
and where the service is; the fallback text reads as words."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from slack_views.card import approve_confirm, card_text, status_card
from slack_views.thread import answer_parts
from workflows.models import (
    DeliveryState,
    DeliveryStatus,
    Deployment,
    GateState,
    GateStatus,
    Operation,
    Stage,
    StageState,
)

UI = "http://127.0.0.1:8233/namespaces/default"


def waiting_for_prod() -> DeliveryStatus:
    return DeliveryStatus(
        delivery_id="delivery/orders-api/3-abc123",
        service="orders-api",
        version=3,
        requester="U0ALICE",
        state=DeliveryState.waiting_for_approval,
        stages=[
            Stage(name="test", state=StageState.succeeded),
            Stage(name="approve prod", state=StageState.waiting),
        ],
        gates=[
            GateStatus(
                environment="prod",
                state=GateState.open,
                approvals=["U0BOB"],
                required_approvals=2,
                approvers=["U0BOB", "U0CAROL"],
                approver_groups=["S0PLATFORM", "release-managers"],
                expires_at=datetime(2026, 11, 30, 18, 0, tzinfo=UTC),
            )
        ],
        deployments=[
            Deployment(
                environment="staging", url="http://127.0.0.1:18080", version=3, image="orders-api:3"
            )
        ],
    )


def text_of(blocks) -> str:
    return json.dumps([b.to_dict() for b in blocks])


def test_the_card_names_who_must_act_and_by_when():
    card = text_of(status_card(waiting_for_prod(), UI))
    assert "1 of 2 approvals (open)" in card
    assert "1 more needed from <@U0CAROL>, <!subteam^S0PLATFORM>, @release-managers" in card
    stamp = int(datetime(2026, 11, 30, 18, 0, tzinfo=UTC).timestamp())
    assert f"expires <!date^{stamp}^{{date_short_pretty}} at {{time}}|2026-11-30 18:00 UTC>" in card


def test_the_service_url_leads_and_stage_states_are_words():
    blocks = [b.to_dict() for b in status_card(waiting_for_prod(), UI)]
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sections[1] == ":link: *staging*: <http://127.0.0.1:18080>"
    assert ":white_check_mark: test: succeeded" in sections[2]
    assert ":raised_hand: approve prod: waiting" in sections[2]


def test_the_workflow_link_is_url_encoded():
    card = text_of(status_card(waiting_for_prod(), UI))
    assert f"{UI}/workflows/delivery%2Forders-api%2F3-abc123|" in card


def test_the_fallback_text_never_says_none():
    planning = DeliveryStatus(delivery_id="delivery/new/1-abc", requester="U0ALICE")
    assert card_text(planning) == "new service: in progress"
    assert "None" not in text_of(status_card(planning, UI))
    assert card_text(waiting_for_prod()) == "orders-api v3: waiting for approval"


def test_a_long_answer_is_split_between_lines_and_loses_nothing():
    lines = [f"orders-api v{n}: live in staging since 2026-11-{n % 28 + 1:02d}" for n in range(200)]
    text = "\n".join(lines)
    parts = answer_parts(text)
    assert len(parts) > 1
    assert all(len(part) <= 2900 for part in parts)
    assert "\n".join(parts) == text  # every line whole, in order
    one_huge_line = "word " * 1000
    pieces = answer_parts(one_huge_line.strip())
    assert all(len(p) <= 2900 for p in pieces)
    assert " ".join(pieces) == one_huge_line.strip()
    assert answer_parts("short") == ["short"]


def test_a_long_tear_down_plan_keeps_its_warning_in_the_confirm_dialog():
    """Slack shows 300 characters of a confirm dialog: the list is shortened, never the
    warning that nothing comes back."""
    name = "inventory-reconciliation-service-api"
    plan = (
        f"the ECS service `shipmate-t1-{name}-staging`, its load balancer rule, the RDS "
        f"database `shipmate-t1-{name}-staging` and all its data (no final snapshot), the "
        f"secret `shipmate/t1/{name}/staging` and the log group `/shipmate/t1/{name}/staging`"
    )
    status = DeliveryStatus(
        delivery_id=f"delivery/{name}/9-abc",
        service=name,
        requester="U0ALICE",
        operation=Operation.tear_down,
        teardown_plan=plan,
    )
    dialog = approve_confirm(status, "staging").to_dict()["text"]["text"]
    assert len(dialog) <= 300
    assert dialog.endswith("… It cannot be undone.")
    assert dialog.startswith(f"This deletes the ECS service `shipmate-t1-{name}-staging`")
    short = status.model_copy(update={"teardown_plan": "its containers"})
    assert approve_confirm(short, "staging").to_dict()["text"]["text"] == (
        "This deletes its containers. It cannot be undone."
    )
