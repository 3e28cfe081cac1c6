"""A failing build ends the delivery as failed, with the build log's tail in its status."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio.client import WorkflowFailureError

from cli.worker import build_worker
from shipmate import delivery_client
from understanding import parse_request
from workflows.models import DeliveryState, StageState


async def test_missing_base_image_fails_the_test_stage_with_the_log_tail(
    client, settings, docker_ready
):
    broken = settings.model_copy(
        update={
            "base_image": "shipmate/no-such-base:0",
            "task_queue": "shipmate-broken",
            "retry_window_hours": 1 / 3600,
        }
    )
    text = "build a notes api"
    spec = parse_request(text).spec
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with build_worker(client, broken, executor):
            ticket = await delivery_client.request_change(client, broken, text, spec, "U0ALICE")
            handle = client.get_workflow_handle(ticket.delivery_id)
            status = await delivery_client.follow(handle, lambda s: None, interval=0.3)
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
