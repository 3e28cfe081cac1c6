"""A person's recent deliveries are their newest, whatever state the older ones are in.

Temporal lists running executions before closed ones; cut at the App Home's limit, that
hid a delivery that had just finished from anyone with that many others parked at gates.
"""

from __future__ import annotations

import uuid

from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from shipmate import delivery_client, status_report
from tests.workflows.test_workflows import gate_open, start, until
from workflows import search
from workflows.models import DeliveryState
from workflows.service_workflow import service_workflow_id

SHOWN = 3  # the App Home shows 15; the rule is the same at any limit


async def test_the_newest_delivery_shows_past_older_ones_parked_at_gates(client, fake):
    script, worker = fake
    person = f"U0R{uuid.uuid4().hex[:8].upper()}"
    local = worker.model_copy(update={"developers": [person]})
    script.settings = local  # the worker's rules let this person ask
    parked = []
    for _ in range(SHOWN):
        handle, spec = await start(client, local, "build a todo api", person)
        await until(handle, gate_open("staging"))
        parked.append((handle, spec))
    newest, newest_spec = await start(client, local, "build a notes api", person)
    await until(newest, gate_open("staging"))
    await delivery_client.decide(client, newest.id, "U0BOB", "staging", approve=True)
    assert (await newest.result()).state == DeliveryState.succeeded

    shown = await status_report.deliveries_matching(
        client, search.deliveries(requester=person), limit=SHOWN
    )
    assert [s.delivery_id for s in shown] == [newest.id, parked[-1][0].id, parked[-2][0].id]
    assert [s.state for s in shown] == [
        DeliveryState.succeeded,
        DeliveryState.waiting_for_approval,
        DeliveryState.waiting_for_approval,
    ]
    for handle, spec in [*parked, (newest, newest_spec)]:
        if handle is not newest:
            await _end(handle)  # before its service: ending the service ends its delivery
        await _end(client.get_workflow_handle(service_workflow_id(spec.name)))


async def _end(handle: WorkflowHandle) -> None:
    """Terminate what this test left running; one already ended is fine."""
    try:
        await handle.terminate("seen what was needed")
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
