"""Each environment's approval rules, from the defaults and SHIPMATE_APPROVAL_POLICIES:
who approves, whether the requester may, how long the gate waits and when it reminds."""

from __future__ import annotations

from shipmate.people import Directory
from shipmate.policies import approval_policies
from shipmate.settings import EnvironmentPolicy, Settings


async def test_each_key_of_an_environment_policy_takes_effect():
    settings = Settings(
        approvers=["U0BOB"],
        approver_groups={},
        approval_timeout_hours=24,
        approval_reminder_hours=1,
        approval_policies={
            "prod": EnvironmentPolicy(
                approvers=["U0DAVE", "U0ERIN"],
                required_approvals=2,
                requester_may_approve=True,
                timeout_hours=4,
                remind_before_hours=0.5,
            ),
            "qa": EnvironmentPolicy(gate=False, remind_before_hours=0),
        },
    )
    found = await approval_policies(settings, ["staging", "prod", "qa"], Directory(settings))

    staging, prod, qa = found["staging"], found["prod"], found["qa"]
    assert (staging.approvers, staging.required_approvals, staging.gate) == (["U0BOB"], 1, True)
    assert staging.requester_may_approve is True  # not production
    assert (staging.timeout_seconds, staging.remind_before_seconds) == (24 * 3600, 3600)

    assert prod.approvers == ["U0DAVE", "U0ERIN"] and prod.required_approvals == 2
    assert prod.requester_may_approve is True  # said so, though production defaults to no
    assert (prod.timeout_seconds, prod.remind_before_seconds) == (4 * 3600, 1800)

    assert qa.gate is False and qa.remind_before_seconds == 0
    assert qa.approvers == ["U0BOB"]  # the default approvers where none are named


async def test_production_by_default_needs_someone_other_than_the_requester():
    settings = Settings(approvers=["U0BOB"], approver_groups={}, approval_policies={})
    found = await approval_policies(settings, ["prod", "staging"], Directory(settings))
    # production as SHIPMATE_ENVIRONMENTS says (by default prod; "production" is a word
    # people use for it, not an environment)
    assert [p.requester_may_approve for p in found.values()] == [False, True]
