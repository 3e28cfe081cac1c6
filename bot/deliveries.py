"""Starting deliveries and talking to them: what the CLI and the bot share.

Approval policies are resolved here, from settings, when a delivery starts, so the
workflow carries the rules it was started under and stays deterministic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError

from activities.settings import Settings
from workflows.delivery import DeliveryWorkflow
from workflows.models import (
    ApprovalDecision,
    ApprovalPolicy,
    DeliveryRequest,
    DeliveryState,
    DeliveryStatus,
    GateStatus,
    StageState,
)
from workflows.spec import ServiceSpec

FINISHED = {
    DeliveryState.succeeded,
    DeliveryState.failed,
    DeliveryState.rejected,
    DeliveryState.expired,
    DeliveryState.cancelled,
}


class DecisionRefused(Exception):
    """The gate's rules refused a decision; the message is for the person who made it."""


def approval_policies(settings: Settings, spec: ServiceSpec) -> dict[str, ApprovalPolicy]:
    approvers: list[str] = []
    for entry in settings.approvers:
        approvers += settings.approver_groups.get(entry, [entry] if entry.startswith("U") else [])
    approvers = list(dict.fromkeys(approvers))
    return {
        env: ApprovalPolicy(
            approvers=approvers,
            requester_may_approve=env not in ("prod", "production"),
            timeout_seconds=settings.approval_timeout_hours * 3600,
        )
        for env in spec.deploy.environments
    }


def delivery_id(spec: ServiceSpec) -> str:
    return f"delivery/{spec.name}/{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 1000:03d}"


async def start_delivery(
    client: Client,
    settings: Settings,
    text: str,
    spec: ServiceSpec,
    requester: str,
) -> WorkflowHandle:
    request = DeliveryRequest(
        request_text=text, requester=requester, policies=approval_policies(settings, spec)
    )
    return await client.start_workflow(
        DeliveryWorkflow.run, request, id=delivery_id(spec), task_queue=settings.task_queue
    )


async def decide(
    client: Client,
    workflow_id: str,
    user: str,
    environment: str,
    *,
    approve: bool,
    reason: str = "",
) -> GateStatus:
    handle = client.get_workflow_handle(workflow_id)
    update = DeliveryWorkflow.approve if approve else DeliveryWorkflow.reject
    decision = ApprovalDecision(user=user, environment=environment, reason=reason)
    try:
        return await handle.execute_update(update, decision, result_type=GateStatus)
    except WorkflowUpdateFailedError as exc:
        raise DecisionRefused(str(exc.cause.message if exc.cause else exc)) from None
    except RPCError as exc:
        raise DecisionRefused(f"{workflow_id}: {exc.message}") from None


async def follow(
    handle: WorkflowHandle,
    on_change: Callable[[DeliveryStatus], None],
    on_gate: Callable[[DeliveryStatus, GateStatus], object] | None = None,
    interval: float = 1.0,
) -> DeliveryStatus:
    """Poll the status query until the delivery ends, calling back on every change."""
    last = None
    seen_gates: set[str] = set()
    while True:
        status = await handle.query(DeliveryWorkflow.status, result_type=DeliveryStatus)
        snapshot = status.model_dump_json()
        if snapshot != last:
            on_change(status)
            last = snapshot
        for gate in status.gates:
            if gate.state == "open" and gate.environment not in seen_gates and on_gate:
                seen_gates.add(gate.environment)
                result = on_gate(status, gate)
                if asyncio.iscoroutine(result):
                    await result
        if status.state in FINISHED:
            return status
        desc = await handle.describe()
        if desc.status is not None and desc.status.name != "RUNNING":
            return await handle.query(DeliveryWorkflow.status, result_type=DeliveryStatus)
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
