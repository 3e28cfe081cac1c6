"""Answers to status questions, read from Temporal: short, exact, in Slack mrkdwn."""

from __future__ import annotations

from temporalio.client import Client

from bot.intents import Reading
from bot.quoting import PRIVATE, Quoting
from shipmate import status_report
from slack_views.text import escape, problem
from workflows import search
from workflows.models import DeliveryState, DeliveryStatus, GateState, ServiceState

IN_FLIGHT = {DeliveryState.running, DeliveryState.waiting_for_approval, DeliveryState.failed}


def describe_delivery(status: DeliveryStatus) -> str:
    stage = status.current_stage
    where = f" at *{stage.name}*" if stage else ""
    lines = [
        f"*{status.service} v{status.version}* is {status.state.value.replace('_', ' ')}"
        f"{where} (requested by <@{status.requester}>)."
    ]
    for gate in status.gates:
        if gate.state == GateState.open:
            lines.append(f"{gate.environment} gate: {gate.summary()}.")
    for deployment in status.deployments:
        lines.append(f"{deployment.environment}: {deployment.url}")
    if status.error:
        lines.append(problem(status))
    return "\n".join(lines)


async def answer(client: Client, reading: Reading, quoting: Quoting | None = None) -> str:
    """`quoting`: where the answer goes, so that requests written elsewhere in private
    are not read out (none: only the command line's)."""
    quoting = quoting or Quoting(None, None)
    report = await status_report.gather(client, reading.service)
    if reading.service and not report.services:
        everything = await status_report.gather(client)
        known = ", ".join(s.name for s in everything.services) or "none yet"
        return f"I don't know a service called `{reading.service}`. Services: {known}."
    if reading.intent.value == "deployed":
        return _deployed(report, reading.environment)
    if reading.intent.value == "history":
        told = [await _history(s, quoting) for s in report.services]
        return "\n\n".join(told) or "No services yet."
    if reading.intent.value == "who_approved":
        return _who_approved(report, reading.environment or "prod")
    return _running(report)


def _deployed(report: status_report.StatusReport, environment: str | None) -> str:
    lines = []
    for service in report.services:
        for env, d in sorted(service.deployments.items()):
            if environment in (None, env):
                approved = ", ".join(f"<@{u}>" for u in d.approved_by) or "no gate"
                lines.append(
                    f"• *{service.name}* v{d.version} in *{env}*: {d.url} (approved by {approved})"
                )
    where = f" in {environment}" if environment else ""
    return "\n".join(lines) if lines else f"Nothing is deployed{where} yet."


def _running(report: status_report.StatusReport) -> str:
    lines = [f"• {describe_delivery(s)}" for s in report.in_flight if s.state in IN_FLIGHT]
    deployed = _deployed(report, None)
    head = "\n".join(lines) if lines else "No deliveries in flight."
    return f"{head}\n\n*Deployed:*\n{deployed}" if report.services else head


async def _history(service: ServiceState, quoting: Quoting) -> str:
    lines = [
        f"*{service.name}* (spec v{service.current_spec.version if service.current_spec else '-'})"
    ]
    for record in service.deliveries[-10:]:
        version = f"v{record.version}" if record.version else "-"
        asked = (
            escape(record.request_text[:80])
            if await quoting.may_quote(record.slack_channel)
            else PRIVATE
        )
        lines.append(
            f"• `{record.delivery_id}` {version} {record.state.value.replace('_', ' ')}"
            f" by <@{record.requester}>: {asked}"
        )
    return "\n".join(lines)


def _who_approved(report: status_report.StatusReport, environment: str) -> str:
    lines = []
    for service in report.services:
        deployment = service.deployments.get(environment)
        if deployment is None:
            lines.append(f"*{service.name}* has not been deployed to {environment}.")
            continue
        who = ", ".join(f"<@{u}>" for u in deployment.approved_by) or "nobody (no gate)"
        when = f" on {deployment.at:%Y-%m-%d %H:%M} UTC" if deployment.at else ""
        lines.append(
            f"The last {environment} deploy of *{service.name}* (v{deployment.version}"
            f"{when}) was approved by {who}, requested by <@{deployment.requested_by}>."
        )
    return "\n".join(lines) or "No services yet."


async def thread_delivery(client: Client, channel: str, thread_ts: str) -> DeliveryStatus | None:
    """The newest delivery started from this thread, found by its search attributes."""
    query = search.deliveries(channel=channel, thread=thread_ts)
    newest_first = await status_report.deliveries_matching(client, query, limit=20)
    return newest_first[0] if newest_first else None
