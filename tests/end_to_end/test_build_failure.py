"""A failing build ends the delivery as failed, with the build log's tail in its status."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowFailureError

from cli.worker import build_workers
from shipmate import delivery_client
from testkit.waiting import eventually
from understanding import parse_request
from workflows.models import DeliveryState, StageState


async def _settled(handle):
    status = await delivery_client.delivery_status(handle)
    running = [stage for stage in status.stages if stage.state == StageState.running]
    return None if running else status


async def test_missing_base_image_fails_the_test_stage_with_the_log_tail(
    client, settings, docker_ready
):
    broken = settings.model_copy(
        update={
            "base_image": "shipmate/no-such-base:0",
            "task_queue": "shipmate-broken",
            "retry_window_hours": 20 / 3600,
        }
    )
    text = "build a notes api"
    spec = parse_request(text).spec
    async with build_workers(client, broken):
        ticket = await delivery_client.request_change(client, broken, text, spec, "U0ALICE")
        handle = client.get_workflow_handle(ticket.delivery_id)
        await delivery_client.follow(handle, lambda s: None, interval=0.3)
        # the first stage to fail turns the delivery failed; the one beside it fails on
        # its own a moment later, well within the retry window
        status = await eventually(
            lambda: _settled(handle), what="test and build both ended", timeout=20
        )
        with pytest.raises(WorkflowFailureError):
            await handle.result()  # nobody retried within the window
    assert status.state == DeliveryState.failed
    stages = {stage.name: stage.state for stage in status.stages}
    # the runtime image is built beside the tests, from the same missing base image
    assert stages["test"] == stages["build"] == StageState.failed
    assert stages["push"] == StageState.pending
    assert "docker build" in status.error
    assert "base image shipmate/no-such-base:0 is not on this Docker engine" in status.error
    assert "FROM ${BASE_IMAGE} AS deps" in status.log_tail
