"""What is running and what is deployed where, read from Temporal (never from memory).

Services are found through visibility (search attributes), then asked through their
queries; the CLI prints this as text and the bot as Slack blocks.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.service import RPCError

from shipmate.delivery_client import delivery_status
from shipmate.pending_work import PendingWork, pending_work
from workflows import search
from workflows.models import DeliveryState, DeliveryStatus, ServiceState
from workflows.service_workflow import ServiceWorkflow, service_workflow_id

LIST_LIMIT = 50
QUERY_TIMEOUT = timedelta(seconds=5)
KNOWN_STATES = {s.value for s in DeliveryState}
# What a lookup no worker answers in time ends with (the engine's error, or the clock's).
UNANSWERED = (RPCError, TimeoutError, WorkflowQueryFailedError, WorkflowQueryRejectedError)


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
        e
        async for e in client.list_workflows(
            search.deliveries(running=True, service=service), limit=LIST_LIMIT
        )
    ]

    async def describe(workflow_id: str) -> ServiceState | None:
        asked = client.get_workflow_handle(workflow_id).query(
            ServiceWorkflow.describe, result_type=ServiceState, rpc_timeout=QUERY_TIMEOUT
        )
        try:
            return await asyncio.wait_for(asked, QUERY_TIMEOUT.total_seconds())
        except UNANSWERED:
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


async def service_names(client: Client) -> list[str]:
    """The names of the services that exist, from the engine's list (no worker asked)."""
    prefix = service_workflow_id("")
    found = client.list_workflows(search.services(running=True), limit=LIST_LIMIT * 4)
    return sorted([e.id.removeprefix(prefix) async for e in found])


async def newest_matching(client: Client, query: str) -> str | None:
    """The id of the newest workflow a visibility query finds (a review or a load test in
    a thread), or None."""
    newest = None
    async for entry in client.list_workflows(query, limit=5):
        if newest is None or entry.start_time > newest.start_time:
            newest = entry
    return newest.id if newest else None


async def deliveries_matching(
    client: Client, query: str, limit: int = LIST_LIMIT
) -> list[DeliveryStatus]:
    """Statuses of the newest deliveries a visibility query finds, newest first.

    Temporal lists every running execution before any closed one, so one list cut at
    `limit` leaves a person with that many deliveries parked at gates without the one
    that just finished; the running and the closed are listed apart and merged. One
    that ended between the two lists is in both: it shows once, ended.
    """
    found: dict[str, WorkflowExecution] = {}
    for clause in (search.RUNNING, search.CLOSED):
        async for entry in client.list_workflows(f"({query}) AND {clause}", limit=limit):
            found[entry.id] = entry
    newest = sorted(found.values(), key=lambda e: e.start_time, reverse=True)
    return await _statuses(client, newest[:limit])


async def _statuses(client: Client, found: list[WorkflowExecution]) -> list[DeliveryStatus]:
    """Each delivery's status. A finished one is read from its result (the engine keeps it;
    no worker has to replay its history, which on a busy worker outlasts the query's
    timeout); a running one is asked. One that does not answer in time is shown from its
    search attributes rather than left out."""

    async def ask(entry: WorkflowExecution) -> DeliveryStatus | None:
        handle = client.get_workflow_handle(
            entry.id, run_id=entry.run_id, result_type=DeliveryStatus
        )
        if entry.status == WorkflowExecutionStatus.COMPLETED:
            try:
                return await handle.result(follow_runs=False, rpc_timeout=QUERY_TIMEOUT)
            except (RPCError, WorkflowFailureError):
                pass  # asked below, like a running one
        return await delivery_status(handle, rpc_timeout=QUERY_TIMEOUT)

    async def one(entry: WorkflowExecution) -> DeliveryStatus | None:
        # The client retries a query the engine cancelled at its deadline, several times:
        # the wall clock, not rpc_timeout, is what bounds a delivery no worker answers for.
        try:
            return await asyncio.wait_for(ask(entry), QUERY_TIMEOUT.total_seconds())
        except UNANSWERED:
            return from_search_attributes(entry)

    return [s for s in await asyncio.gather(*(one(e) for e in found)) if s]


def from_search_attributes(entry: WorkflowExecution) -> DeliveryStatus | None:
    """What visibility alone says of a delivery: its service, state, requester and thread."""
    attributes = entry.typed_search_attributes
    requester, state = attributes.get(search.REQUESTER), attributes.get(search.STATE)
    if not requester:
        return None  # not started by Shipmate's client; nothing to show it by
    return DeliveryStatus(
        delivery_id=entry.id,
        service=attributes.get(search.SERVICE),
        requester=requester,
        state=DeliveryState(state) if state in KNOWN_STATES else DeliveryState.running,
        slack_channel=attributes.get(search.CHANNEL),
        slack_thread_ts=attributes.get(search.THREAD),
    )


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
