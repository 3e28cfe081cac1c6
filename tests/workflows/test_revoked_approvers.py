"""A revoked approver no longer approves (#29 item 2). Group members used to be expanded
when the change was requested and stored as approvers, so someone removed from @sre
afterwards still passed. Membership is now decided by the lookup made at the click (the
bot and the command line send the person's groups as Slack names them then); people
named themselves in the settings approve as before."""

from __future__ import annotations

import pytest

from shipmate import delivery_client
from tests.workflows.test_workflows import gate_open, start, until
from workflows.access import ApprovalPolicy, PersonAction


def through_sre(settings):
    """Approvers: bob by name, and the group S0SRE (dave and erin when the change starts)."""
    return settings.model_copy(
        update={
            "approvers": ["U0BOB", "S0SRE"],
            "approver_groups": {"S0SRE": ["U0DAVE", "U0ERIN"]},
        }
    )


async def test_a_member_removed_from_the_group_since_the_request_cannot_approve(client, fake):
    script, settings = fake
    sre = script.settings = through_sre(settings)
    handle, _ = await start(client, sre, "build a todo api, deploy to staging")
    await until(handle, gate_open("staging"))

    # dave left @sre after the change started: the lookup at his click names no group
    with pytest.raises(delivery_client.DecisionRefused, match="not allowed to approve staging"):
        await delivery_client.decide(client, handle.id, "U0DAVE", "staging", approve=True)
    with pytest.raises(delivery_client.DecisionRefused, match="may cancel this delivery"):
        await delivery_client.cancel(client, handle.id, "U0DAVE", "not mine to stop")

    still_in = await delivery_client.decide(
        client, handle.id, "U0ERIN", "staging", approve=True, groups=["S0SRE"]
    )
    assert still_in.state == "approved" and still_in.approvals == ["U0ERIN"]
    final = await handle.result()
    assert [(a.user, a.decision) for a in final.audit] == [("U0ERIN", "approved")]


async def test_someone_named_in_the_settings_approves_without_any_group(client, fake):
    script, settings = fake
    sre = script.settings = through_sre(settings)
    handle, _ = await start(client, sre, "build a todo api, deploy to staging")
    await until(handle, gate_open("staging"))
    gate = await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
    assert gate.state == "approved"


def test_a_delivery_started_before_keeps_its_stored_approvers():
    """Its policy has no list of people named themselves: every stored approver counts,
    as when it started (a history replays as it ran)."""
    before = ApprovalPolicy(approvers=["U0BOB", "U0DAVE"], approver_groups=["S0SRE"])
    assert before.allows(PersonAction(user="U0DAVE"))
    now = before.model_copy(update={"named_approvers": ["U0BOB"]})
    assert not now.allows(PersonAction(user="U0DAVE"))
    assert now.allows(PersonAction(user="U0DAVE", groups=["S0SRE"]))
    assert now.allows(PersonAction(user="U0BOB"))
