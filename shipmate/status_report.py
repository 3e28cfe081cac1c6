"""What is running and what is deployed where, read from Temporal (never from memory).

Services are found through visibility (search attributes), then asked through their
queries; the CLI prints this as text and the bot as Slack blocks.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio.client import Client
from temporalio.service import RPCError

from shipmate.delivery_client import delivery_status
from shipmate.pending_work import PendingWork, pending_work
from workflows import search
from workflows.models import DeliveryStatus, ServiceState
from workflows.service_workflow import ServiceWorkflow

LIST_LIMIT = 50
QUERY_TIMEOUT = timedelta(seconds=5)


class StatusReport(BaseModel):
    services: list[ServiceState] = Field(default_factory=list)
    in_flight: list[DeliveryStatus] = Field(default_factory=list)
    pending: dict[str, list[PendingWork]] = Field(
        default_factory=dict, description="Delivery id -> its activities Temporal holds"
    )


async def gather(
    client: Client, service: str | None = None, *, with_pending: bool = False
) -> StatusReport:
    """Services and deliveries in flight, asked concurrently; one that does not answer in
    time (its worker gone, say) is left out rather than holding up the answer. With
    `with_pending`, also what the engine holds of each one's running stages."""
    services = [
        e.id
        async for e in client.list_workflows(
            search.services(running=True, service=service), limit=LIST_LIMIT
        )
    ]
    running = [
        e.id
        async for e in client.list_workflows(
            search.deliveries(running=True, service=service), limit=LIST_LIMIT
        )
    ]

    async def describe(workflow_id: str) -> ServiceState | None:
        try:
            return await client.get_workflow_handle(workflow_id).query(
                ServiceWorkflow.describe, result_type=ServiceState, rpc_timeout=QUERY_TIMEOUT
            )
        except RPCError:
            return None  # rolling over, or no worker right now; it shows up next time

    states = await asyncio.gather(*(describe(i) for i in services))
    statuses = await _statuses(client, running)
    pending = {}
    if with_pending:
        found = await asyncio.gather(*(pending_work(client, s.delivery_id) for s in statuses))
        pending = {s.delivery_id: work for s, work in zip(statuses, found, strict=True) if work}
    return StatusReport(
        services=sorted((s for s in states if s), key=lambda s: s.name),
        in_flight=sorted(statuses, key=lambda s: s.delivery_id),
        pending=pending,
    )


async def deliveries_matching(
    client: Client, query: str, limit: int = LIST_LIMIT
) -> list[DeliveryStatus]:
    """Statuses of the deliveries a visibility query finds, newest first."""
    found = [e async for e in client.list_workflows(query, limit=limit)]
    found.sort(key=lambda e: e.start_time, reverse=True)
    return await _statuses(client, [e.id for e in found])


async def _statuses(client: Client, workflow_ids: list[str]) -> list[DeliveryStatus]:
    async def one(workflow_id: str) -> DeliveryStatus | None:
        try:
            return await delivery_status(
                client.get_workflow_handle(workflow_id), rpc_timeout=QUERY_TIMEOUT
            )
        except RPCError:
            return None

    return [s for s in await asyncio.gather(*(one(i) for i in workflow_ids)) if s]


def render_text(report: StatusReport) -> str:
    lines: list[str] = []
    if not report.services:
        lines.append("No services yet.")
    for service in report.services:
        version = service.current_spec.version if service.current_spec else "-"
        lines.append(f"{service.name} (spec v{version}, {len(service.deliveries)} deliveries)")
        for env, deployment in sorted(service.deployments.items()):
            approved = ", ".join(deployment.approved_by) or "no gate"
            lines.append(
                f"  {env:<10} v{deployment.version}  {deployment.url}  {deployment.image}"
                f"  approved by {approved}"
            )
        if not service.deployments:
            lines.append("  nothing deployed")
    if report.in_flight:
        lines.append("In flight:")
        for status in report.in_flight:
            stage = status.current_stage
            where = f" at {stage.name}" if stage else ""
            lines.append(f"  {status.delivery_id}  {status.state}{where}  by {status.requester}")
            lines += [
                f"    {work.describe()}" for work in report.pending.get(status.delivery_id, [])
            ]
    return "\n".join(lines)
