"""`shipmate_deliveries{state}` on a worker's /metrics counts the deliveries in flight.

The README: deliveries by current state, counted from Temporal visibility, with
`running` and `waiting_for_approval` among open ones. Two deliveries are put in those
states by scripted stages (one parked at its staging gate, one held in its scaffold),
then a `shipmate worker` process is started with a metrics port, and its scrape is
compared with what Temporal's visibility answers to the query an operator would type.
"""

from __future__ import annotations

import asyncio
import signal
import uuid

import httpx

from cli import devstack
from shipmate import delivery_client
from testkit.waiting import eventually
from testkit.worker_processes import start_worker, stop
from tests.shipmate.test_observability_processes import scrape, total
from tests.workflows.test_workflows import unique, until
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import DeliveryState
from workflows.service_workflow import service_workflow_id

IN_FLIGHT = "WorkflowType = 'DeliveryWorkflow' AND ExecutionStatus = 'Running'"


async def _request(client, settings, text: str):
    words, spec = unique(text)
    ticket = await delivery_client.request_change(client, settings, words, spec, "U0ALICE")
    return client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id), spec


async def test_the_worker_counts_deliveries_running_and_waiting_for_approval(
    client, settings, fake, tmp_path
):
    script, local = fake
    parked, parked_spec = await _request(client, local, "build a todo api")
    await until(parked, lambda status: status.state == DeliveryState.waiting_for_approval)
    script.block["scaffold_service"] = asyncio.Event()  # the next one stays in its scaffold
    held, held_spec = await _request(client, local, "build a notes api")
    await until(held, lambda status: status.state == DeliveryState.running)

    async def visible(state: str) -> int:
        query = f"{IN_FLIGHT} AND ShipmateState = '{state}'"
        return (await client.count_workflows(query)).count

    async def both_visible():
        return await visible("running") >= 1 and await visible("waiting_for_approval") >= 1

    await eventually(both_visible, what="both deliveries in visibility")

    port = devstack.free_port()
    queue = f"gauges-{uuid.uuid4().hex[:6]}"
    worker = start_worker(settings, queue, tmp_path / "w.log", worker_metrics_port=str(port))
    try:

        async def reported():
            try:
                metrics = await scrape(port)
            except httpx.TransportError:  # not listening yet
                return None
            return metrics if total(metrics, "shipmate_deliveries") is not None else None

        metrics = await eventually(reported, timeout=60, what="shipmate_deliveries on /metrics")
        seen = {state: await visible(state) for state in ("running", "waiting_for_approval")}
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    finally:
        stop(worker)
        script.block["scaffold_service"].set()
        for handle, spec in ((parked, parked_spec), (held, held_spec)):
            for workflow_id in (handle.id, service_workflow_id(spec.name)):
                try:
                    await client.get_workflow_handle(workflow_id).terminate("test done")
                except Exception:  # already closed
                    pass

    for state in ("running", "waiting_for_approval"):
        reported_count = total(metrics, "shipmate_deliveries", state=state, shipmate_role="worker")
        assert reported_count is not None and reported_count >= 1, state
        assert reported_count == seen[state], state
    assert total(metrics, "shipmate_approvals_waiting") == seen["waiting_for_approval"]
