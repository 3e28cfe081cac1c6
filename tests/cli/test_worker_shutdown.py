"""A worker told to stop (SIGTERM) hands its running stage back at once and exits cleanly.

What Kubernetes does on every rollout: the pod gets SIGTERM, then a grace period. The
stage it was running must not wait for a heartbeat timeout to be noticed, must leave
no container behind, and must finish on the next worker without earlier stages rerun.
"""

from __future__ import annotations

import signal
import uuid
from datetime import UTC, datetime

import docker

from shipmate import delivery_client
from testkit.waiting import eventually
from testkit.worker_processes import follow_approving, start_worker, stop
from understanding import parse_request
from workflows.models import DeliveryState


async def test_sigterm_hands_the_running_stage_back_and_exits_cleanly(
    client, settings, docker_ready, tmp_path
):
    queue = f"stop-{uuid.uuid4().hex[:6]}"
    local = settings.model_copy(update={"task_queue": queue})
    spec = parse_request("build a todo api").spec
    spec = spec.model_copy(update={"name": f"stop-{uuid.uuid4().hex[:6]}"})
    log = tmp_path / "worker.log"
    # A heartbeat timeout far longer than the test: only the shutdown can hand the stage
    # back. No grace: with a warm cache, test and build may finish inside any grace period,
    # and then there would be nothing left to hand back.
    slow_to_notice = {"heartbeat_seconds": "600", "worker_shutdown_seconds": "0"}
    first = start_worker(local, queue, log, **slow_to_notice)
    second = None
    try:
        ticket = await delivery_client.request_change(client, local, "a todo api", spec, "U0ALICE")
        handle = client.get_workflow_handle(ticket.delivery_id)
        # The tests, once their container runs: they take seconds more, so the stage is
        # still running when the signal lands. (The build beside them may be a cache hit
        # that ends before the worker notices the signal: then it simply completes.)
        stage = "test_service"
        await eventually(
            lambda: _test_container_of(spec.name), timeout=600, interval=0.05, what="the tests"
        )
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=120) == 0
        assert "worker stopped" in log.read_text()

        async def handed_back():
            description = await handle.describe()
            for pending in description.raw_description.pending_activities:
                if pending.activity_type.name == stage and pending.attempt >= 2:
                    return pending.last_failure.message or "failed"
            return None

        # seen at once, not after the 600 s heartbeat timeout
        reason = await eventually(handed_back, timeout=60, what=f"{stage} handed back")
        assert reason
        test_containers = docker.from_env().containers.list(
            all=True, filters={"label": "shipmate.role=tests", "name": spec.name}
        )
        assert test_containers == [], f"the {stage} stage left its test container behind"

        second = start_worker(local, queue, tmp_path / "second.log")

        final = await follow_approving(client, handle)
    finally:
        stop(first, second)
    assert final.state == DeliveryState.succeeded, final.error
    for container in docker.from_env().containers.list(
        all=True, filters={"label": f"shipmate.service={spec.name}"}
    ):
        container.remove(force=True)


async def test_a_stage_that_ends_within_the_grace_period_is_finished_by_its_worker(
    client, settings, docker_ready, tmp_path
):
    """SHIPMATE_WORKER_SHUTDOWN_SECONDS: a stopping worker lets its running stage finish
    and report, so a rollout does not throw away a test or build that was nearly done."""
    queue = f"grace-{uuid.uuid4().hex[:6]}"
    local = settings.model_copy(update={"task_queue": queue})
    spec = parse_request("build a todo api").spec
    spec = spec.model_copy(update={"name": f"grace-{uuid.uuid4().hex[:6]}"})
    log = tmp_path / "worker.log"
    first = start_worker(local, queue, log, heartbeat_seconds="600", worker_shutdown_seconds="300")
    second = None
    try:
        ticket = await delivery_client.request_change(client, local, "a todo api", spec, "U0ALICE")
        handle = client.get_workflow_handle(ticket.delivery_id)
        # the stage has really begun on the worker once its test container exists
        stage = "test_service"
        await eventually(
            lambda: _test_container_of(spec.name), timeout=600, interval=0.05, what="the tests"
        )
        told_to_stop = datetime.now(UTC)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=300) == 0
        assert "worker stopped" in log.read_text()
        attempts = await _attempts_of(handle, stage)
        assert [attempt for attempt, _ in attempts] == [1], f"{stage}: {attempts}"
        # it was still running when the worker was told to stop
        assert attempts[0][1] > told_to_stop

        second = start_worker(local, queue, tmp_path / "second.log")
        final = await follow_approving(client, handle)
    finally:
        stop(first, second)
    assert final.state == DeliveryState.succeeded, final.error
    assert [attempt for attempt, _ in await _attempts_of(handle, stage)] == [1]
    for container in docker.from_env().containers.list(
        all=True, filters={"label": f"shipmate.service={spec.name}"}
    ):
        container.remove(force=True)


async def _attempts_of(handle, activity_type: str) -> list[tuple[int, datetime]]:
    """The attempt that completed each run of one stage, and when, from the history."""
    scheduled, ended = {}, []
    async for event in handle.fetch_history_events():
        attributes = event.activity_task_scheduled_event_attributes
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled[event.event_id] = attributes.activity_type.name
        elif event.HasField("activity_task_started_event_attributes"):
            started = event.activity_task_started_event_attributes
            if scheduled.get(started.scheduled_event_id) == activity_type:
                attempt = started.attempt
        elif event.HasField("activity_task_completed_event_attributes"):
            done = event.activity_task_completed_event_attributes
            if scheduled.get(done.scheduled_event_id) == activity_type:
                ended.append((attempt, event.event_time.ToDatetime(tzinfo=UTC)))
    return ended


async def _test_container_of(service: str) -> bool:
    engine = docker.from_env()
    return bool(
        # sparse: a container removed between the list and a look at it is no error
        engine.containers.list(
            all=True, sparse=True, filters={"label": "shipmate.role=tests", "name": service}
        )
    )
