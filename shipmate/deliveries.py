"""Starting deliveries and talking to them: what the CLI and the bot share.

A change goes to its service's ServiceWorkflow through update-with-start (the service
entity is created on first use), which queues it and answers with the delivery id.
Approval policies and timeouts are resolved here, from settings, when a change is
requested, so the workflow carries the rules it was started under.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from shipmate.settings import Settings
from workflows.delivery import FINISHED, DeliveryWorkflow
from workflows.models import (
    ApprovalDecision,
    ApprovalPolicy,
    ChangeRequest,
    DeliveryStatus,
    DeliveryTicket,
    GateState,
    GateStatus,
    PersonRequest,
    ServiceState,
    StageState,
    StageTimeouts,
)
from workflows.service import ServiceWorkflow, service_workflow_id
from workflows.spec import ServiceSpec
from workflows.vocabulary import is_production


class DecisionRefused(Exception):
    """The workflow's rules refused a request; the message is for the person who made it."""


def approval_policies(settings: Settings, environments: list[str]) -> dict[str, ApprovalPolicy]:
    """The rules for each environment: defaults, then SHIPMATE_APPROVAL_POLICIES overrides."""
    policies = {}
    for env in environments:
        override = settings.approval_policies.get(env)
        entries = override.approvers if override and override.approvers else settings.approvers
        own = override.requester_may_approve if override else None
        hours = override.timeout_hours if override and override.timeout_hours else None
        policies[env] = ApprovalPolicy(
            approvers=_people(settings, entries),
            required_approvals=override.required_approvals if override else 1,
            requester_may_approve=own if own is not None else not is_production(env),
            timeout_seconds=(hours or settings.approval_timeout_hours) * 3600,
            gate=override.gate if override else True,
        )
    return policies


def _people(settings: Settings, entries: list[str]) -> list[str]:
    """User ids, with user groups (S…) expanded to their members."""
    people: list[str] = []
    for entry in entries:
        people += settings.approver_groups.get(entry, [entry] if entry.startswith("U") else [])
    return list(dict.fromkeys(people))


def stage_timeouts(settings: Settings) -> StageTimeouts:
    return StageTimeouts(
        heartbeat_seconds=settings.heartbeat_seconds,
        retry_window_seconds=settings.retry_window_hours * 3600,
    )


async def request_change(
    client: Client,
    settings: Settings,
    text: str,
    spec: ServiceSpec,
    requester: str,
    *,
    channel: str | None = None,
    thread_ts: str | None = None,
    request_key: str | None = None,
) -> DeliveryTicket:
    """Queue a change on the service (creating the service entity if new)."""
    change = ChangeRequest(
        request_text=text,
        requester=requester,
        spec=spec,
        policies=approval_policies(settings, spec.deploy.environments),
        timeouts=stage_timeouts(settings),
        slack_channel=channel,
        slack_thread_ts=thread_ts,
        request_key=request_key,
    )
    start = WithStartWorkflowOperation(
        ServiceWorkflow.run,
        ServiceState(name=spec.name),
        id=service_workflow_id(spec.name),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        task_queue=settings.task_queue,
    )
    try:
        return await client.execute_update_with_start_workflow(
            ServiceWorkflow.request_change,
            change,
            start_workflow_operation=start,
            result_type=DeliveryTicket,
        )
    except WorkflowUpdateFailedError as exc:
        raise DecisionRefused(_reason(exc)) from None


async def current_spec(client: Client, service: str) -> ServiceSpec | None:
    """The running spec of a service, or None when there is no such service (yet)."""
    handle = client.get_workflow_handle(service_workflow_id(service))
    try:
        state = await handle.query(ServiceWorkflow.describe, result_type=ServiceState)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return state.current_spec


async def decide(
    client: Client,
    workflow_id: str,
    user: str,
    environment: str,
    *,
    approve: bool,
    reason: str = "",
) -> GateStatus:
    update = DeliveryWorkflow.approve if approve else DeliveryWorkflow.reject
    decision = ApprovalDecision(user=user, environment=environment, reason=reason)
    return await _update(client, workflow_id, update, decision, GateStatus)


async def cancel(client: Client, workflow_id: str, user: str, reason: str = "") -> DeliveryStatus:
    request = PersonRequest(user=user, reason=reason)
    return await _update(client, workflow_id, DeliveryWorkflow.cancel, request, DeliveryStatus)


async def retry(client: Client, workflow_id: str, user: str) -> DeliveryStatus:
    request = PersonRequest(user=user)
    return await _update(client, workflow_id, DeliveryWorkflow.retry, request, DeliveryStatus)


async def _update(client: Client, workflow_id: str, update, argument, result_type):
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(update, argument, result_type=result_type)
    except WorkflowUpdateFailedError as exc:
        raise DecisionRefused(_reason(exc)) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise DecisionRefused(f"{workflow_id} is not running any more") from None
        raise DecisionRefused(f"{workflow_id}: {exc.message}") from None


def _reason(exc: WorkflowUpdateFailedError) -> str:
    cause = exc.cause
    return str(getattr(cause, "message", None) or cause or exc)


async def delivery_status(handle: WorkflowHandle, rpc_timeout=None) -> DeliveryStatus | None:
    """The delivery's status, or None while it is still queued behind another."""
    try:
        return await handle.query(
            DeliveryWorkflow.status, result_type=DeliveryStatus, rpc_timeout=rpc_timeout
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def follow(
    handle: WorkflowHandle,
    on_change: Callable[[DeliveryStatus], None],
    on_gate: Callable[[DeliveryStatus, GateStatus], object] | None = None,
    interval: float = 1.0,
) -> DeliveryStatus:
    """Poll the status query until the delivery ends (or fails), calling back on changes."""
    last = None
    seen_gates: set[str] = set()
    while True:
        status = await delivery_status(handle)
        if status is None:
            await asyncio.sleep(interval)
            continue
        snapshot = status.model_dump_json()
        if snapshot != last:
            on_change(status)
            last = snapshot
        for gate in status.gates:
            if gate.state == GateState.open and gate.environment not in seen_gates and on_gate:
                seen_gates.add(gate.environment)
                result = on_gate(status, gate)
                if asyncio.iscoroutine(result):
                    await result
        if status.state in FINISHED:
            return status
        await asyncio.sleep(interval)


STAGE_MARKS = {
    StageState.pending: "·",
    StageState.running: "▶",
    StageState.waiting: "⏸",
    StageState.succeeded: "✓",
    StageState.failed: "✗",
    StageState.skipped: "–",
    StageState.cancelled: "■",
}
