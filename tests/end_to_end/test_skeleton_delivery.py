"""The walking skeleton: request text to a running container, through real parts."""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest

from activities.deploy_targets.local import LocalDocker
from shipmate import delivery_client, status_report
from understanding import parse_request
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import (
    DeliveryRequest,
    DeliveryState,
    DeliveryStatus,
    ServiceState,
    StageState,
)
from workflows.service_workflow import ServiceWorkflow
from workflows.stage_models import TeardownInput


async def test_todo_api_is_delivered_and_answers(client, settings, worker):
    text = "build a todo api"
    spec = parse_request(text).spec
    ticket = await delivery_client.request_change(client, settings, text, spec, "U0ALICE")
    assert re.fullmatch(r"delivery/todo-api/1-[0-9a-f]{6}", ticket.delivery_id)
    handle = client.get_workflow_handle(ticket.delivery_id)

    async def on_gate(status, gate):
        # carol is not an approver: the validator refuses her and the gate stays open.
        with pytest.raises(delivery_client.DecisionRefused, match="not allowed to approve"):
            await delivery_client.decide(
                client, handle.id, "U0CAROL", gate.environment, approve=True
            )
        approved = await delivery_client.decide(
            client, handle.id, "U0BOB", gate.environment, approve=True
        )
        assert approved.state == "approved"

    status = await delivery_client.follow(handle, lambda s: None, on_gate, interval=0.5)

    assert status.state == DeliveryState.succeeded, status.error
    assert [s.name for s in status.stages if s.state != StageState.succeeded] == []
    assert status.test_summary.startswith("24 passed, 0 failed")
    [deployment] = status.deployments
    assert deployment.environment == "staging"
    assert deployment.approved_by == ["U0BOB"]
    assert [entry.user for entry in status.audit] == ["U0BOB"]

    base = deployment.url
    assert httpx.get(f"{base}/health").json()["service"] == "todo-api"
    created = httpx.post(f"{base}/todos", json={"title": "ship it", "done": False})
    assert created.status_code == 201
    todo_id = created.json()["id"]
    assert httpx.patch(f"{base}/todos/{todo_id}", json={"done": True}).json()["done"] is True
    assert httpx.delete(f"{base}/todos/{todo_id}").status_code == 204
    assert httpx.get(f"{base}/todos/{todo_id}").status_code == 404

    # The service entity now knows what is deployed where, and so does `shipmate status`.
    service = await client.get_workflow_handle("service/todo-api").query(
        ServiceWorkflow.describe, result_type=ServiceState
    )
    assert service.deployments["staging"].url == base
    assert [s.version for s in service.specs] == [1]
    report = status_report.render_text(await status_report.gather(client, "todo-api"))
    assert f"staging    v1  {base}" in report
    assert "approved by U0BOB" in report
    removed = LocalDocker().tear_down(
        settings, TeardownInput(service="todo-api", environment="staging"), heartbeat=print
    )
    assert "the PostgreSQL database `todo_api_staging_" in removed

    # The generated code is kept as a git repository, one commit per version.
    repo = settings.services_dir / "todo-api"
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--format=%B"], capture_output=True, text=True, check=True
    ).stdout
    assert log.startswith("todo-api v1: build a todo api")
    assert "Requested by U0ALICE through Shipmate." in log


async def test_request_without_anything_to_build_fails_with_a_question(client, settings, worker):
    handle = await client.start_workflow(
        DeliveryWorkflow.run,
        DeliveryRequest(request_text="hello there, how are you?", requester="U0ALICE"),
        id="delivery/unclear/1",
        task_queue=settings.task_queue,
    )
    status = await delivery_client.follow(handle, lambda s: None, interval=0.3)
    assert status.state == DeliveryState.failed
    assert status.stages[0].state == StageState.failed
    assert "What should the service manage?" in status.error
    # A failed delivery waits for a retry; cancelling it closes it cleanly.
    await delivery_client.cancel(client, handle.id, "U0ALICE", "typo")
    final = await handle.result()
    assert final.state == DeliveryState.cancelled
    assert (final.error, final.ending_reason) == ("cancelled by <@U0ALICE>", "typo")
    status = await handle.query(DeliveryWorkflow.status, result_type=DeliveryStatus)
    assert status.audit[-1].decision == "cancelled"
