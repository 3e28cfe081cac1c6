"""What is running and what is deployed where, read from Temporal (never from memory).

Services are found through visibility (search attributes), then asked through their
queries; the CLI prints this as text and the bot as Slack blocks.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from temporalio.client import Client
from temporalio.service import RPCError

from bot.deliveries import delivery_status
from workflows.models import DeliveryStatus, ServiceState
from workflows.service import ServiceWorkflow

LIST_LIMIT = 50


class StatusReport(BaseModel):
    services: list[ServiceState] = Field(default_factory=list)
    in_flight: list[DeliveryStatus] = Field(default_factory=list)


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "").replace("'", "") + "'"


async def gather(client: Client, service: str | None = None) -> StatusReport:
    where = f" AND ShipmateService = {_quoted(service)}" if service else ""
    report = StatusReport()
    async for execution in client.list_workflows(
        f"WorkflowType = 'ServiceWorkflow' AND ExecutionStatus = 'Running'{where}",
        limit=LIST_LIMIT,
    ):
        handle = client.get_workflow_handle(execution.id)
        try:
            report.services.append(
                await handle.query(ServiceWorkflow.describe, result_type=ServiceState)
            )
        except RPCError:
            continue  # a service rolling over right now; it shows up on the next ask
    async for execution in client.list_workflows(
        f"WorkflowType = 'DeliveryWorkflow' AND ExecutionStatus = 'Running'{where}",
        limit=LIST_LIMIT,
    ):
        status = await delivery_status(client.get_workflow_handle(execution.id))
        if status is not None:
            report.in_flight.append(status)
    report.services.sort(key=lambda s: s.name)
    report.in_flight.sort(key=lambda s: s.delivery_id)
    return report


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
    return "\n".join(lines)
