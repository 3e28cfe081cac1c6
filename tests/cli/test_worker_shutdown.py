"""A worker told to stop (SIGTERM) hands its running stage back at once and exits cleanly.

What Kubernetes does on every rollout: the pod gets SIGTERM, then a grace period. The
stage it was running must not wait for a heartbeat timeout to be noticed, must leave
no container behind, and must finish on the next worker without earlier stages rerun.
"""

from __future__ import annotations

import signal
import uuid

import docker

from shipmate import delivery_client
from testkit.waiting import eventually
from testkit.worker_processes import (
    LONG_STAGES,
    follow_approving,
    long_stage_running,
    start_worker,
    stop,
)
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
        stage = await eventually(
            lambda: long_stage_running(handle), timeout=600, interval=0.05, what="a long stage"
        )
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=120) == 0
        assert "worker stopped" in log.read_text()

        async def handed_back():
            description = await handle.describe()
            for pending in description.raw_description.pending_activities:
                if pending.activity_type.name in LONG_STAGES and pending.attempt >= 2:
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
