"""A rolling upgrade under Worker Versioning, as the Helm chart runs it: a delivery is
parked at its gate under build A; build B, whose delivery code changed behind a patch,
starts while A still polls and (promotion `first`) leaves A current, so A keeps the work;
then the chart's hook promotes B. The approval lands with A still polling, as old pods
drain while new ones start: every task from then on goes to B, and the delivery carries
on under B's code. Unversioned, A's worker (which has the run cached) would take the
approval and finish on the old code."""

from __future__ import annotations

import uuid

from temporalio.api.enums.v1 import EventType

from cli.worker import WORKFLOWS, build_workers
from shipmate import delivery_client, worker_versions
from shipmate.temporal import connect
from testkit.fake_stages import Script
from testkit.next_build import CHANGE, DeliveryOfTheNextBuild
from tests.workflows.test_workflows import gate_open, start, until
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import DeliveryState


def build_of(event) -> str:
    return event.workflow_task_completed_event_attributes.deployment_version.build_id


async def test_a_parked_delivery_carries_on_under_the_build_made_current(client, settings):
    queue = f"upgrade-{uuid.uuid4().hex[:8]}"
    common = {
        "task_queue": queue,
        "approvers": ["U0BOB"],
        "heartbeat_seconds": 5,
        "worker_promotion": "first",
    }
    build_a = settings.model_copy(update={**common, "build_id": "a"})
    build_b = settings.model_copy(update={**common, "build_id": "b"})
    script = Script(settings=build_a)
    b_workflows = [DeliveryOfTheNextBuild if w is DeliveryWorkflow else w for w in WORKFLOWS]

    async with build_workers(client, build_a, stages=script.activities()):
        assert await worker_versions.current_build(client, build_a) == "a"
        handle, _ = await start(client, build_a, "build a todo api", "U0ALICE")
        await until(handle, gate_open("staging"))

        # a new pod: another process, so a client of its own
        b_client = await connect(build_b)
        b_workers = build_workers(b_client, build_b, script.activities(), b_workflows)
        async with b_workers:
            assert await worker_versions.current_build(client, build_b) == "a"  # not yet
            await worker_versions.make_current(client, build_b, [queue])  # `shipmate promote`
            assert await worker_versions.current_build(client, build_b) == "b"
            await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
            final = await until(handle, lambda s: s.state == DeliveryState.succeeded)

    assert final.state == DeliveryState.succeeded and len(script.deployed) == 1
    events = [event async for event in handle.fetch_history_events()]
    patches = [
        e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data
        for e in events
        if e.marker_recorded_event_attributes.marker_name == "core_patch"
    ]
    assert any(CHANGE.encode() in data for data in patches)  # B's new step ran
    tasks = [
        build_of(e) for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    ]
    # parked under A; from the approval on, only B's workers answered
    first_b = tasks.index("b")
    assert tasks[:first_b] and set(tasks[:first_b]) == {"a"}
    assert set(tasks[first_b:]) == {"b"}
