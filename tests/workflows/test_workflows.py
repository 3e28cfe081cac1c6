"""Workflow logic on the real Temporal dev server, with scripted stand-in stages.

Approval policy, retry from the failed stage, cancel, expiry, queueing per service,
continue-as-new and search attributes: what a person relies on when they click.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from shipmate import delivery_client
from shipmate.people import Directory
from shipmate.policies import approval_policies
from shipmate.settings import EnvironmentPolicy
from testkit.waiting import eventually
from understanding import parse_request
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import ChangeRequest, DeliveryState, DeliveryStatus, ServiceState, StageState
from workflows.service_workflow import ServiceWorkflow


def unique(text: str) -> tuple[str, object]:
    """The request with a service name no other test uses."""
    spec = parse_request(text).spec
    return text, spec.model_copy(update={"name": f"{spec.name}-{uuid.uuid4().hex[:6]}"})


async def start(client, settings, text, requester="U0ALICE"):
    text, spec = unique(text)
    ticket = await delivery_client.request_change(client, settings, text, spec, requester)
    handle = client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)
    await until(handle, lambda status: True)  # the service starts it a moment later
    return handle, spec


async def until(handle, predicate) -> DeliveryStatus:
    async def status_if_reached():
        status = await delivery_client.delivery_status(handle)
        return status if status is not None and predicate(status) else None

    return await eventually(status_if_reached, interval=0.2, what=f"{handle.id} state")


def gate_open(env):
    return lambda s: any(g.environment == env and g.state == "open" for g in s.gates)


async def test_requester_cannot_approve_their_own_prod_deploy(client, fake):
    script, settings = fake
    handle, _ = await start(client, settings, "build a todo api, deploy to prod", "U0BOB")
    await until(handle, gate_open("prod"))
    with pytest.raises(delivery_client.DecisionRefused, match="someone else must approve prod"):
        await delivery_client.decide(client, handle.id, "U0BOB", "prod", approve=True)
    gate = await delivery_client.decide(client, handle.id, "U0DAVE", "prod", approve=True)
    assert gate.state == "approved"
    final = await handle.result()
    assert final.state == DeliveryState.succeeded
    assert final.deployments[0].approved_by == ["U0DAVE"]
    # the deploy stage hears who asked and who approved, for the worker to check again
    assert (script.deployed[0].requester, script.deployed[0].approved_by) == ("U0BOB", ["U0DAVE"])
    # The refused click left no trace: only dave's decision is in the audit trail, and
    # the history holds one update, his.
    assert [(a.user, a.decision) for a in final.audit] == [("U0DAVE", "approved")]
    accepted = [
        event.workflow_execution_update_accepted_event_attributes.accepted_request.input
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    assert [u.name for u in accepted] == ["approve"]
    assert b"U0DAVE" in accepted[0].args.payloads[0].data


async def test_staging_allows_the_requester_to_approve(client, fake):
    script, settings = fake
    handle, _ = await start(client, settings, "build a todo api", "U0BOB")
    await until(handle, gate_open("staging"))
    await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
    assert (await handle.result()).state == DeliveryState.succeeded


async def test_two_distinct_approvals_when_the_policy_asks_for_two(client, fake):
    script, settings = fake
    settings = script.settings = settings.model_copy(  # the worker's rules, which count
        update={"approval_policies": {"prod": EnvironmentPolicy(required_approvals=2)}}
    )
    handle, _ = await start(client, settings, "build a todo api, deploy to prod")
    await until(handle, gate_open("prod"))
    first = await delivery_client.decide(client, handle.id, "U0BOB", "prod", approve=True)
    assert first.summary() == "1 of 2 approvals (open)"
    with pytest.raises(delivery_client.DecisionRefused, match="already approved prod"):
        await delivery_client.decide(client, handle.id, "U0BOB", "prod", approve=True)
    second = await delivery_client.decide(client, handle.id, "U0DAVE", "prod", approve=True)
    assert second.state == "approved"
    final = await handle.result()
    assert final.deployments[0].approved_by == ["U0BOB", "U0DAVE"]


async def test_reject_with_a_reason_ends_the_delivery_and_closes_the_gate(client, fake):
    script, settings = fake
    handle, _ = await start(client, settings, "build a todo api")
    await until(handle, gate_open("staging"))
    await delivery_client.decide(
        client, handle.id, "U0BOB", "staging", approve=False, reason="needs a status field"
    )
    final = await handle.result()
    assert final.state == DeliveryState.rejected
    assert final.error == "staging deploy rejected by <@U0BOB>"
    assert final.ending_reason == "needs a status field"
    assert final.deployments == []
    assert script.calls["deploy_service"] == 0


async def test_a_gate_nobody_decides_expires_cleanly(client, fake):
    script, settings = fake
    settings = script.settings = settings.model_copy(
        update={"approval_policies": {"staging": EnvironmentPolicy(timeout_hours=2 / 3600)}}
    )
    handle, _ = await start(client, settings, "build a todo api")
    final = await handle.result()
    assert final.state == DeliveryState.expired
    assert "expired after" in final.error
    assert final.gates[0].state == "expired"
    with pytest.raises(delivery_client.DecisionRefused):
        await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)


async def test_a_failed_delivery_shows_why_and_can_be_cancelled(client, fake):
    script, settings = fake
    script.fail["build_service_image"] = 1
    handle, _ = await start(client, settings, "build a todo api")
    failed = await until(handle, lambda s: s.state == DeliveryState.failed)
    assert failed.error == "build failed: build_service_image broke"
    assert failed.log_tail == "line 1\nline 2"
    await delivery_client.cancel(client, handle.id, "U0ALICE", "giving up")
    final = await handle.result()
    assert final.state == DeliveryState.cancelled
    assert {s.name: s.state for s in final.stages}["build"] == StageState.failed


async def test_retry_after_failure_completes_without_redoing_earlier_stages(client, fake):
    script, settings = fake
    script.fail["build_service_image"] = 1
    handle, _ = await start(client, settings, "build a todo api")
    await until(handle, lambda s: s.state == DeliveryState.failed)
    await delivery_client.retry(client, handle.id, "U0ALICE")
    await until(handle, gate_open("staging"))
    await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
    final = await handle.result()
    assert final.state == DeliveryState.succeeded
    assert final.error is None
    assert script.calls["scaffold_service"] == 1
    assert script.calls["test_service"] == 1
    assert script.calls["build_service_image"] == 2
    assert ("U0ALICE", "retried") in [(a.user, a.decision) for a in final.audit]


async def test_retry_is_refused_while_the_delivery_is_healthy(client, fake):
    script, settings = fake
    handle, _ = await start(client, settings, "build a todo api")
    await until(handle, gate_open("staging"))
    with pytest.raises(
        delivery_client.DecisionRefused, match="only a failed delivery can be retried"
    ):
        await delivery_client.retry(client, handle.id, "U0ALICE")
    await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
    await handle.result()


async def test_cancel_stops_the_running_stage_and_records_who(client, fake):
    script, settings = fake
    script.block["test_service"] = asyncio.Event()
    handle, _ = await start(client, settings, "build a todo api")
    await until(handle, lambda s: any(x.name == "test" and x.state == "running" for x in s.stages))
    # "running" is reported as the activity is scheduled; cancel once a worker holds it,
    # so what is checked is that work already under way is stopped.
    await eventually(lambda: script.calls["test_service"], what="the test stage to start")
    await delivery_client.cancel(client, handle.id, "U0ALICE", "wrong database")
    final = await handle.result()
    assert final.state == DeliveryState.cancelled
    assert final.error == "cancelled by <@U0ALICE>"
    assert final.ending_reason == "wrong database"
    assert {s.name: s.state for s in final.stages}["test"] == StageState.cancelled
    assert script.cancelled == ["test_service"]
    assert script.deployed == []  # the image was built beside the tests, never deployed
    with pytest.raises(delivery_client.DecisionRefused, match="not running any more|already ended"):
        await delivery_client.cancel(client, handle.id, "U0BOB")


async def test_a_service_runs_one_delivery_at_a_time_and_queues_the_next(client, fake):
    script, settings = fake
    script.block["scaffold_service"] = asyncio.Event()
    text, spec = unique("build a todo api")
    first = await delivery_client.request_change(client, settings, text, spec, "U0ALICE")
    second = await delivery_client.request_change(client, settings, text + " v2", spec, "U0ALICE")
    assert "/1-" in first.delivery_id and "/2-" in second.delivery_id
    assert second.queued_behind == 1
    script.block["scaffold_service"].set()
    for ticket in (first, second):
        handle = client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)
        await until(handle, gate_open("staging"))
        await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
        await handle.result()
    service = await client.get_workflow_handle(f"service/{spec.name}").query(
        ServiceWorkflow.describe, result_type=ServiceState
    )
    assert [s.version for s in service.specs] == [1, 2]
    assert service.deployments["staging"].version == 2
    assert [d.state for d in service.deliveries] == ["succeeded", "succeeded"]
    # Each version is written on top of the last one's repository, on any worker.
    written_on = [
        (s.spec.version, s.earlier_repository)
        for s in script.scaffolded
        if s.spec.name == spec.name
    ]
    assert written_on == [(1, None), (2, f"{spec.name}/v1.tar.gz")]
    assert service.repository == f"{spec.name}/v2.tar.gz"


async def test_service_state_survives_continue_as_new(client, fake):
    script, settings = fake
    text, spec = unique("build a todo api")
    service_id = f"service/{spec.name}"
    state = ServiceState(name=spec.name, history_limit=10)
    for round_number in (1, 2):
        ticket = await client.execute_update_with_start_workflow(
            ServiceWorkflow.request_change,
            ChangeRequest(
                request_text=text,
                requester="U0ALICE",
                policies=await approval_policies(settings, ["staging"], Directory(settings)),
            ),
            start_workflow_operation=WithStartWorkflowOperation(
                ServiceWorkflow.run,
                state,
                id=service_id,
                task_queue=settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            ),
        )
        handle = client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)
        await until(handle, gate_open("staging"))
        await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
        await handle.result()
        assert f"/{round_number}-" in ticket.delivery_id

    async def continued_state():
        state = await client.get_workflow_handle(service_id).query(
            ServiceWorkflow.describe, result_type=ServiceState
        )
        return state if state.continued >= 1 else None

    described = await eventually(continued_state, what="a continue-as-new")
    assert [s.version for s in described.specs] == [1, 2]
    assert described.deployments["staging"].version == 2
    assert described.delivery_count == 2


async def test_deliveries_are_found_by_service_and_state(client, fake):
    script, settings = fake
    handle, spec = await start(client, settings, "build a todo api")
    await until(handle, gate_open("staging"))
    await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
    await handle.result()
    query = f"ShipmateService = '{spec.name}' AND ShipmateState = 'succeeded'"

    async def found():
        return [w.id async for w in client.list_workflows(query)]

    assert await eventually(found, interval=0.2, what="a visibility record") == [handle.id]


async def test_progress_goes_to_the_slack_thread_and_ends_with_the_outcome(client, fake):
    script, settings = fake
    text, spec = unique("build a todo api")
    ticket = await delivery_client.request_change(
        client, settings, text, spec, "U0ALICE", channel="C0GENERAL", thread_ts="1.000100"
    )
    handle = client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)
    await until(handle, gate_open("staging"))
    await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
    await handle.result()
    assert "waiting_for_approval" in script.notified
    assert script.notified[-1] == "succeeded"


async def test_an_admin_and_an_approver_may_stop_or_retry_anyone_s_delivery(client, fake):
    """Cancel and retry belong to the requester, the delivery's approvers and the admins;
    anyone else is refused and changes nothing."""
    script, settings = fake
    ruled = script.settings = settings.model_copy(update={"admins": ["U0ERIN"]})
    script.fail["build_service_image"] = 1
    handle, _ = await start(client, ruled, "build a todo api")
    await until(handle, lambda s: s.state == DeliveryState.failed)
    with pytest.raises(delivery_client.DecisionRefused, match="may retry this delivery"):
        await delivery_client.retry(client, handle.id, "U0CAROL")
    await delivery_client.retry(client, handle.id, "U0BOB")  # an approver of staging
    await until(handle, gate_open("staging"))
    with pytest.raises(delivery_client.DecisionRefused, match="may cancel this delivery"):
        await delivery_client.cancel(client, handle.id, "U0CAROL", "not mine")
    await delivery_client.cancel(client, handle.id, "U0ERIN", "an admin tidies up")
    final = await handle.result()
    assert final.state == DeliveryState.cancelled
    assert [(a.user, a.decision) for a in final.audit] == [
        ("U0BOB", "retried"),
        ("U0ERIN", "cancelled"),
    ]


async def test_approvers_that_resolve_to_nobody_stop_the_delivery_before_its_gate(client, fake):
    """Fail closed: an empty approver list is not a gate anyone may open, so the delivery
    stops at it with the setting to fix, and nothing is deployed."""
    script, settings = fake
    nobody = script.settings = settings.model_copy(update={"approvers": []})
    handle, _ = await start(client, nobody, "build a todo api")
    failed = await until(handle, lambda s: s.state == DeliveryState.failed)
    assert failed.error == "nobody may approve staging deploys: SHIPMATE_APPROVERS names nobody."
    assert {s.name: s.state for s in failed.stages}["approve staging"] == StageState.failed
    assert script.deployed == []
