"""The worker checks a deploy against its own rules (#29 item 1, its deploy part): a
caller with looser settings, or an approver since removed from a group, gets a clear
refusal from the deploy stage and nothing is deployed.

Each case runs the worker's real `deploy_service` activity. A refused deploy never
reaches the deploy target; the target named here (AWS ECS, with no AWS behind it)
would fail loudly if it were reached, so "refused" cannot pass by accident."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.deploy_guard import NotApproved, check_approved
from activities.stages import DeliveryActivities
from shipmate.settings import EnvironmentPolicy, Settings
from workflows.spec import DeployTarget
from workflows.stage_models import DeployInput


def worker_settings(tmp_path, **changes) -> Settings:
    """The worker's settings: approvers bob and the group S0SRE (bob and dave)."""
    chosen = {
        "approvers": ["U0BOB", "S0SRE"],
        "approver_groups": {"S0SRE": ["U0BOB", "U0DAVE"]},
        **changes,
    }
    return Settings(_env_file=None, state_dir=tmp_path, **chosen)


def deploy(env: str, requester: str, approved_by: list[str]) -> DeployInput:
    return DeployInput(
        service="orders-api",
        environment=env,
        image="orders-api:v1",
        target=DeployTarget.aws_ecs,
        requester=requester,
        approved_by=approved_by,
    )


def refusal(settings: Settings, request: DeployInput) -> str:
    with pytest.raises(ApplicationError) as refused:
        ActivityEnvironment().run(DeliveryActivities(settings).deploy_service, request)
    assert refused.value.type == "NotApproved"
    assert refused.value.non_retryable  # a retry cannot make it approved
    return refused.value.message


def test_a_gate_switched_off_by_the_caller_does_not_switch_it_off_in_the_worker(tmp_path):
    """`SHIPMATE_APPROVAL_POLICIES='{"prod":{"gate":false}}' shipmate deliver … to prod`:
    the delivery passed no gate, so it carries no approval."""
    message = refusal(worker_settings(tmp_path), deploy("prod", "U0ALICE", []))
    assert "refused by this worker's rules: prod deploys need 1 approval(s)" in message
    assert "<@U0BOB>" in message and "members of S0SRE" in message
    assert "this delivery had none" in message


def test_an_approver_removed_from_the_group_since_the_click_no_longer_counts(tmp_path):
    carol_left = worker_settings(tmp_path, approver_groups={"S0SRE": ["U0BOB"]})
    message = refusal(carol_left, deploy("staging", "U0ALICE", ["U0DAVE"]))
    assert "this delivery had <@U0DAVE>" in message
    check_approved(worker_settings(tmp_path), deploy("staging", "U0ALICE", ["U0DAVE"]))


def test_the_requester_s_own_approval_does_not_count_in_production(tmp_path):
    message = refusal(worker_settings(tmp_path), deploy("prod", "U0BOB", ["U0BOB"]))
    assert "not the requester" in message
    check_approved(worker_settings(tmp_path), deploy("prod", "U0ALICE", ["U0BOB"]))
    check_approved(worker_settings(tmp_path), deploy("staging", "U0BOB", ["U0BOB"]))


def test_two_required_approvals_need_two_different_people(tmp_path):
    two = worker_settings(
        tmp_path, approval_policies={"prod": EnvironmentPolicy(required_approvals=2)}
    )
    assert "need 2 approval(s)" in refusal(two, deploy("prod", "U0ALICE", ["U0BOB", "U0BOB"]))
    check_approved(two, deploy("prod", "U0ALICE", ["U0BOB", "U0DAVE"]))


def test_an_outsider_s_approval_does_not_count(tmp_path):
    message = refusal(worker_settings(tmp_path), deploy("staging", "U0ALICE", ["U0MALLORY"]))
    assert "this delivery had <@U0MALLORY>" in message


def test_a_worker_whose_rules_name_nobody_refuses_with_the_setting_to_fix(tmp_path):
    unknown = worker_settings(tmp_path, approvers=["S0GONE"], approver_groups={})
    message = refusal(unknown, deploy("staging", "U0ALICE", ["U0BOB"]))
    assert "S0GONE" in message and "Fix the setting" in message


def test_the_worker_s_own_open_environment_needs_no_approval(tmp_path):
    open_staging = worker_settings(
        tmp_path, approval_policies={"staging": EnvironmentPolicy(gate=False)}
    )
    check_approved(open_staging, deploy("staging", "U0ALICE", []))
    with pytest.raises(NotApproved):
        check_approved(open_staging, deploy("prod", "U0ALICE", []))


def test_anyone_may_approve_when_the_worker_says_so(tmp_path):
    anyone = worker_settings(tmp_path, approvers=["*"])
    check_approved(anyone, deploy("staging", "U0ALICE", ["U0WHOEVER"]))
    with pytest.raises(NotApproved):
        check_approved(anyone, deploy("staging", "U0ALICE", []))
