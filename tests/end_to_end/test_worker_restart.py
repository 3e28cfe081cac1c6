"""A worker killed in the middle of a stage: a new worker finishes the delivery.

Real activities, real Docker: the stage that was running is run again (idempotent:
same inputs, same image tag, same container); the stages before it are not.
"""

from __future__ import annotations

import asyncio
import signal
import uuid

import docker

from shipmate import delivery_client
from testkit.waiting import eventually
from testkit.worker_processes import follow_approving, long_stage_running, start_worker, stop
from understanding import parse_request
from workflows.models import DeliveryState, StageState

STAGE_ACTIVITIES = {
    "scaffold": "scaffold_service",
    "test": "test_service",
    "build": "build_service_image",
    "push": "push_service_image",
}


async def test_delivery_completes_after_its_worker_is_killed_mid_stage(
    client, settings, docker_ready
):
    queue = f"restart-{uuid.uuid4().hex[:6]}"
    local = settings.model_copy(update={"task_queue": queue, "heartbeat_seconds": 8})
    spec = parse_request("build a todo api").spec
    spec = spec.model_copy(update={"name": f"restart-{uuid.uuid4().hex[:6]}"})
    first = start_worker(local, queue)
    second = None
    try:
        ticket = await delivery_client.request_change(
            client, local, "build a todo api", spec, "U0ALICE"
        )
        handle = client.get_workflow_handle(ticket.delivery_id)

        # kill only once a long stage is really running on it
        killed_in = await eventually(
            lambda: long_stage_running(handle),
            timeout=600,
            interval=0.05,
            what="a long stage running",
        )
        first.send_signal(signal.SIGKILL)
        first.wait()
        second = start_worker(local, queue)

        final = await asyncio.wait_for(follow_approving(client, handle), 300)
    finally:
        stop(first, second)

    assert final.state == DeliveryState.succeeded, final.error
    assert all(s.state == StageState.succeeded for s in final.stages)

    scheduled: dict[str, int] = {}
    attempts: dict[str, int] = {}
    async for event in handle.fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[name] = scheduled.get(name, 0) + 1
        if event.HasField("activity_task_started_event_attributes"):
            attempts[event.event_id] = event.activity_task_started_event_attributes.attempt
    # Every stage was scheduled once; the killed one ran again as a retry of that schedule.
    for stage, activity in STAGE_ACTIVITIES.items():
        assert scheduled[activity] == 1, (stage, scheduled)
    assert max(attempts.values()) == 2, f"killed in {killed_in}, yet nothing was retried"

    containers = docker.from_env().containers.list(
        all=True, filters={"label": f"shipmate.service={spec.name}"}
    )
    assert len(containers) == 1
    containers[0].remove(force=True)
