"""A delivery still shows in the App Home and in answers when no worker can answer for it:
a finished one from the result the engine keeps, a running one from its search attributes
(rather than being left out, as when a busy worker let its status query time out)."""

from __future__ import annotations

import uuid

from shipmate import delivery_client, status_report
from testkit.fake_stages import Script, on_every_queue
from tests.workflows.test_workflows import gate_open, start, until
from workflows import search
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import DeliveryState
from workflows.service_workflow import ServiceWorkflow, service_workflow_id


async def test_deliveries_show_with_their_worker_gone(client, settings):
    queue = f"gone-{uuid.uuid4().hex[:8]}"
    local = settings.model_copy(update={"task_queue": queue, "approvers": ["U0BOB"]})
    script = Script(settings=local)
    worker = on_every_queue(
        client,
        task_queue=queue,
        workflows=[ServiceWorkflow, DeliveryWorkflow],
        activities=script.activities(),
    )
    async with worker:
        done, done_spec = await start(client, local, "build a todo api")
        await until(done, gate_open("staging"))
        await delivery_client.decide(client, done.id, "U0BOB", "staging", approve=True)
        assert (await done.result()).state == DeliveryState.succeeded
        waiting, waiting_spec = await start(client, local, "build a notes api")
        await until(waiting, gate_open("staging"))
    # No worker polls the queue any more: a status query can only time out.

    (finished,) = await status_report.deliveries_matching(
        client, search.deliveries(service=done_spec.name)
    )
    assert (finished.delivery_id, finished.version) == (done.id, 1)
    assert finished.state == DeliveryState.succeeded
    assert [d.environment for d in finished.deployments] == ["staging"]

    (parked,) = await status_report.deliveries_matching(
        client, search.deliveries(requester="U0ALICE", service=waiting_spec.name)
    )
    assert (parked.delivery_id, parked.service, parked.requester) == (
        waiting.id,
        waiting_spec.name,
        "U0ALICE",
    )
    assert parked.state == DeliveryState.waiting_for_approval

    report = await status_report.gather(client, waiting_spec.name)
    assert [s.delivery_id for s in report.in_flight] == [waiting.id]
    assert report.services == []  # its service workflow cannot answer either, and is left out
    for workflow_id in (waiting.id, service_workflow_id(waiting_spec.name)):
        await client.get_workflow_handle(workflow_id).terminate("seen what was needed")
