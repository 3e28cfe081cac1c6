"""The walking skeleton: request text to a running container, through real parts."""

from __future__ import annotations

import httpx
import pytest
from temporalio.client import WorkflowFailureError

from activities.understanding import parse_request
from bot import deliveries
from workflows.delivery import DeliveryWorkflow
from workflows.models import DeliveryRequest, DeliveryState, DeliveryStatus, StageState


async def test_todo_api_is_delivered_and_answers(client, settings, worker):
    text = "build a todo api"
    spec = parse_request(text).spec
    handle = await deliveries.start_delivery(client, settings, text, spec, "U0ALICE")

    async def on_gate(status, gate):
        # carol is not an approver: the validator refuses her and the gate stays open.
        with pytest.raises(deliveries.DecisionRefused, match="may not approve"):
            await deliveries.decide(client, handle.id, "U0CAROL", gate.environment, approve=True)
        approved = await deliveries.decide(
            client, handle.id, "U0BOB", gate.environment, approve=True
        )
        assert approved.state == "approved"

    status = await deliveries.follow(handle, lambda s: None, on_gate, interval=0.5)

    assert status.state == DeliveryState.succeeded, status.error
    assert [s.state for s in status.stages if s.state != StageState.succeeded] == []
    assert status.test_summary.startswith("6 passed, 0 failed")
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


async def test_request_without_anything_to_build_fails_with_a_question(client, settings, worker):
    handle = await client.start_workflow(
        DeliveryWorkflow.run,
        DeliveryRequest(request_text="hello there, how are you?", requester="U0ALICE"),
        id="delivery/unclear/1",
        task_queue=settings.task_queue,
    )
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    status = await handle.query(DeliveryWorkflow.status, result_type=DeliveryStatus)
    assert status.state == DeliveryState.failed
    assert status.stages[0].state == StageState.failed
    assert "What should the service manage?" in status.error
