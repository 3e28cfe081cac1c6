"""A delivery's gates go by the worker's settings, never by the rules its caller sent:
a command line with looser settings cannot skip a gate, name its own approvers, lower a
count or let in someone the worker's SHIPMATE_DEVELOPERS leaves out."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowFailureError

from shipmate import delivery_client
from shipmate.settings import EnvironmentPolicy
from testkit.waiting import eventually
from tests.workflows.test_undo_deliveries import deliver, undo
from tests.workflows.test_workflows import gate_open, start, unique, until
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import DeliveryState, Operation


async def test_a_caller_that_turns_the_prod_gate_off_still_meets_it(client, fake):
    script, worker = fake
    caller = worker.model_copy(
        update={"approval_policies": {"prod": EnvironmentPolicy(gate=False)}}
    )
    handle, _ = await start(client, caller, "build a todo api, deploy to prod")
    status = await until(handle, gate_open("prod"))
    (gate,) = status.gates
    assert gate.approvers == ["U0BOB", "U0DAVE"]  # the worker's approvers
    assert script.calls["deploy_service"] == 0
    await delivery_client.decide(client, handle.id, "U0BOB", "prod", approve=True)
    final = await handle.result()
    assert final.state == DeliveryState.succeeded
    assert final.deployments[0].approved_by == ["U0BOB"]


async def test_a_caller_cannot_name_its_own_approvers_or_lower_the_count(client, fake):
    script, worker = fake
    script.settings = worker.model_copy(
        update={"approval_policies": {"prod": EnvironmentPolicy(required_approvals=2)}}
    )
    caller = worker.model_copy(
        update={
            "approvers": ["U0MALLORY"],
            "approval_policies": {"prod": EnvironmentPolicy(requester_may_approve=True)},
        }
    )
    handle, _ = await start(client, caller, "build a todo api, deploy to prod", "U0ALICE")
    status = await until(handle, gate_open("prod"))
    assert status.gates[0].required_approvals == 2
    assert "U0MALLORY" not in status.gates[0].approvers
    for who in ("U0MALLORY", "U0ALICE"):  # the caller's approver; the requester herself
        with pytest.raises(delivery_client.DecisionRefused):
            await delivery_client.decide(client, handle.id, who, "prod", approve=True)
    first = await delivery_client.decide(client, handle.id, "U0BOB", "prod", approve=True)
    assert first.summary() == "1 of 2 approvals (open)"
    await delivery_client.decide(client, handle.id, "U0DAVE", "prod", approve=True)
    assert (await handle.result()).deployments[0].approved_by == ["U0BOB", "U0DAVE"]


async def test_someone_the_workers_developers_leave_out_is_refused_before_any_work(client, fake):
    script, worker = fake
    caller = worker.model_copy(update={"developers": ["*"]})
    handle, _ = await start(client, caller, "build a todo api", "U0EVE")
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    status = await delivery_client.delivery_status(handle)
    assert status.state == DeliveryState.failed
    assert status.error == (
        "refused by this worker's rules: <@U0EVE> may not ask for builds or changes "
        "(SHIPMATE_DEVELOPERS)."
    )
    assert not status.retry_possible
    assert script.calls["scaffold_service"] == 0 and script.calls["deploy_service"] == 0


async def test_a_tear_down_asked_with_looser_rules_meets_the_workers_gate(client, fake):
    """The undo operations take the same road: a tear-down asked with staging's gate off
    in the caller's settings still waits for the worker's approvers."""
    script, worker = fake
    text, spec = unique("build a todo api")
    await deliver(client, worker, text, spec)
    caller = worker.model_copy(
        update={"approval_policies": {"staging": EnvironmentPolicy(gate=False)}}
    )
    ticket = await undo(client, caller, Operation.tear_down, spec.name)
    handle = client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)
    status = await until(handle, gate_open("staging"))
    assert status.gates[0].approvers == ["U0BOB", "U0DAVE"]
    assert script.torn_down == []
    await delivery_client.decide(client, ticket.delivery_id, "U0BOB", "staging", approve=False)
    assert (await handle.result()).state == DeliveryState.rejected
    assert script.torn_down == []


async def test_before_the_worker_says_the_rules_only_the_requester_may_cancel(client, fake):
    """Until the rules activity answers, the caller's access would decide who stops a
    delivery: a Shipmate admin only the caller's settings name is refused then, and
    after it too; the requester may, and the worker's approvers may once it has said."""
    script, worker = fake
    script.block["environment_rules"] = asyncio.Event()
    caller = worker.model_copy(update={"admins": ["U0EVE"]})
    handle, _ = await start(client, caller, "build a todo api", "U0ALICE")
    await eventually(lambda: script.calls["environment_rules"] > 0, what="the rules asked")
    for who in ("U0EVE", "U0BOB"):  # the caller's admin; an approver the worker will name
        with pytest.raises(delivery_client.DecisionRefused, match="rules are not known yet"):
            await delivery_client.cancel(client, handle.id, who)
    script.block["environment_rules"].set()
    await until(handle, gate_open("staging"))
    with pytest.raises(delivery_client.DecisionRefused, match="may cancel this delivery"):
        await delivery_client.cancel(client, handle.id, "U0EVE")
    await delivery_client.cancel(client, handle.id, "U0BOB")
    assert (await handle.result()).state == DeliveryState.cancelled


async def test_the_requester_may_cancel_while_the_rules_are_asked(client, fake):
    script, worker = fake
    script.block["environment_rules"] = asyncio.Event()
    handle, _ = await start(client, worker, "build a todo api", "U0ALICE")
    await eventually(lambda: script.calls["environment_rules"] > 0, what="the rules asked")
    await delivery_client.cancel(client, handle.id, "U0ALICE")
    assert (await handle.result()).state == DeliveryState.cancelled
    assert script.calls["scaffold_service"] == 0
