"""Roll back and tear down as deliveries: gated, refused when there is nothing to undo.

On the real Temporal dev server with scripted stages; the deploy target's own side
(databases, containers, the router) is in test_local_deploys.py.
"""

from __future__ import annotations

import pytest

from shipmate import delivery_client
from testkit.waiting import eventually
from tests.workflows.test_workflows import gate_open, unique, until
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import DeliveryState, Operation, ServiceState
from workflows.service_workflow import ServiceWorkflow, service_workflow_id

ROLL_BACK, TEAR_DOWN = Operation.roll_back, Operation.tear_down


async def deliver(client, settings, text, spec):
    """One approved delivery to staging, finished and taken off its service's queue (the
    service hears of the end a moment after the delivery's own result)."""
    ticket = await delivery_client.request_change(client, settings, text, spec, "U0ALICE")
    final = await approve_and_finish(client, ticket.delivery_id)

    async def recorded():
        state = await service_state(client, spec.name)
        found = [d for d in state.deliveries if d.delivery_id == ticket.delivery_id]
        return found and found[0].state != DeliveryState.running

    await eventually(recorded, what="the service to record the delivery's end")
    return final


async def approve_and_finish(client, delivery_id, approver="U0BOB"):
    """Approve staging; a version that drops data (these tests build chains of them to
    roll back) is approved as its card asks, confirming the loss."""
    handle = client.get_workflow_handle_for(DeliveryWorkflow.run, delivery_id)
    waiting = await until(handle, gate_open("staging"))
    await delivery_client.decide(
        client,
        delivery_id,
        approver,
        "staging",
        approve=True,
        accepts_data_loss=bool(waiting.data_loss),
    )
    return await handle.result()


async def service_state(client, name) -> ServiceState:
    handle = client.get_workflow_handle(service_workflow_id(name))
    return await handle.query(ServiceWorkflow.describe, result_type=ServiceState)


async def undo(client, settings, operation, service, env="staging", who="U0ALICE"):
    return await delivery_client.request_undo(client, settings, operation, service, env, who)


async def test_roll_back_puts_the_previous_image_back_after_approval(client, fake):
    script, settings = fake
    text, spec = unique("build a todo api")
    await deliver(client, settings, text, spec)
    await deliver(client, settings, "also add a priority field", spec)

    ticket = await undo(client, settings, ROLL_BACK, spec.name)
    handle = client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)
    waiting = await until(handle, gate_open("staging"))
    assert waiting.operation == ROLL_BACK and waiting.version == 1
    assert script.deployed[-1].version == 2  # nothing moves before the approval
    final = await approve_and_finish(client, ticket.delivery_id)

    assert final.state == DeliveryState.succeeded
    rollback = script.deployed[-1]
    assert (rollback.image, rollback.version) == (f"{spec.name}:v1", 1)
    assert rollback.migrate_down_with == f"{spec.name}:v2"  # v2's migrations know the way back
    state = await service_state(client, spec.name)
    assert state.deployments["staging"].version == 1
    assert state.deployments["staging"].rolled_back_from == 2

    with pytest.raises(delivery_client.DecisionRefused, match="no earlier version to roll back to"):
        await undo(client, settings, ROLL_BACK, spec.name)


async def test_nothing_to_undo_is_refused_with_the_reason(client, fake):
    script, settings = fake
    text, spec = unique("build a todo api")
    await deliver(client, settings, text, spec)

    with pytest.raises(delivery_client.DecisionRefused, match="has run only v1 in staging"):
        await undo(client, settings, ROLL_BACK, spec.name)
    with pytest.raises(delivery_client.DecisionRefused, match="not deployed in prod"):
        await undo(client, settings, TEAR_DOWN, spec.name, env="prod")
    with pytest.raises(delivery_client.DecisionRefused, match="I know no service called"):
        await undo(client, settings, TEAR_DOWN, "never-built-api")
    assert script.torn_down == []


async def test_tear_down_names_what_it_deletes_and_waits_for_approval(client, fake):
    script, settings = fake
    text, spec = unique("build a todo api with mysql")
    await deliver(client, settings, text, spec)

    ticket = await undo(client, settings, TEAR_DOWN, spec.name)
    handle = client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)
    waiting = await until(handle, gate_open("staging"))
    assert waiting.teardown_plan == f"the mysql database of {spec.name}"
    assert script.torn_down == []
    with pytest.raises(delivery_client.DecisionRefused, match="not allowed to approve"):
        await delivery_client.decide(client, ticket.delivery_id, "U0CAROL", "staging", approve=True)

    final = await approve_and_finish(client, ticket.delivery_id)

    assert final.state == DeliveryState.succeeded and final.torn_down == ["staging"]
    assert script.torn_down == [(spec.name, "staging")]
    assert "staging" not in (await service_state(client, spec.name)).deployments


async def test_a_rejected_tear_down_deletes_nothing(client, fake):
    script, settings = fake
    text, spec = unique("build a todo api")
    await deliver(client, settings, text, spec)
    ticket = await undo(client, settings, TEAR_DOWN, spec.name)
    handle = client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)
    await until(handle, gate_open("staging"))
    await delivery_client.decide(client, ticket.delivery_id, "U0BOB", "staging", approve=False)

    assert (await handle.result()).state == DeliveryState.rejected
    assert script.torn_down == []
    assert "staging" in (await service_state(client, spec.name)).deployments


async def test_only_developers_may_ask_to_undo(client, fake):
    script, settings = fake
    text, spec = unique("build a todo api")
    await deliver(client, settings, text, spec)
    closed = settings.model_copy(update={"developers": ["U0ALICE"]})
    with pytest.raises(delivery_client.DecisionRefused, match="may not ask for builds or changes"):
        await undo(client, closed, TEAR_DOWN, spec.name, who="U0CAROL")


async def test_an_undo_that_queued_behind_a_tear_down_ends_with_the_reason(client, fake):
    script, settings = fake
    text, spec = unique("build a todo api")
    await deliver(client, settings, text, spec)
    await deliver(client, settings, "also add a priority field", spec)
    teardown = await undo(client, settings, TEAR_DOWN, spec.name)
    rollback = await undo(client, settings, ROLL_BACK, spec.name)  # fine when asked
    assert rollback.queued_behind == 1

    await approve_and_finish(client, teardown.delivery_id)

    async def rollback_record():
        state = await service_state(client, spec.name)
        found = [d for d in state.deliveries if d.delivery_id == rollback.delivery_id]
        return found[0] if found and found[0].state == DeliveryState.failed else None

    record = await eventually(rollback_record, what="the queued rollback's end")
    assert "not deployed in staging" in record.error
    assert script.deployed[-1].version == 2  # nothing was rolled back onto nothing
