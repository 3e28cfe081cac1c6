"""Starting deliveries and talking to them: what the CLI and the bot share.

A change goes to its service's ServiceWorkflow through update-with-start (the service
entity is created on first use), which queues it and answers with the delivery id.
Approval and access policies and timeouts are resolved (shipmate.policies) when a
change is requested, so the workflow carries the rules it was started under. Refusals
come back as DecisionRefused in plain words; the engine being unreachable as
TemporalUnavailable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from shipmate.environments import unknown_environments
from shipmate.people import Directory
from shipmate.policies import access_policy, approval_policies, stage_timeouts
from shipmate.settings import Settings
from shipmate.temporal import TemporalUnavailable
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import (
    FINISHED,
    ApprovalDecision,
    ChangeRequest,
    DeliveryStatus,
    DeliveryTicket,
    Deployment,
    GateState,
    GateStatus,
    Operation,
    PersonAction,
    ServiceState,
    StageState,
)
from workflows.service_workflow import ServiceWorkflow, service_workflow_id
from workflows.spec import DeployTarget, ServiceSpec
from workflows.unreadable import UNREADABLE_TEXT, unreadable

log = logging.getLogger(__name__)


class DecisionRefused(Exception):
    """The workflow's rules refused a request; the message is for the person who made it."""


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
    directory: Directory | None = None,
    new_service: bool | None = None,
    fixes: list[str] | None = None,
) -> DeliveryTicket:
    """Queue a change on the service (creating the service entity if new). `new_service`:
    asked as a new service (refused when that name exists) or as a change of it; `fixes`:
    a review's, applied on top of the generated code."""
    if unreadable(text):  # a lone surrogate would not even reach the workflow intact
        raise DecisionRefused(UNREADABLE_TEXT)
    deploys = spec.deploy.target != DeployTarget.none
    if deploys and (why := unknown_environments(settings, spec.deploy.environments)):
        raise DecisionRefused(why)
    change = await _change_request(
        settings,
        directory,
        spec.deploy.environments,
        request_text=text,
        requester=requester,
        spec=spec,
        slack_channel=channel,
        slack_thread_ts=thread_ts,
        request_key=request_key,
        new_service=new_service,
        fixes=fixes or [],
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
    except RPCError as exc:
        raise _engine_trouble(exc) from None


async def request_undo(
    client: Client,
    settings: Settings,
    operation: Operation,
    service: str,
    environment: str,
    requester: str,
    *,
    channel: str | None = None,
    thread_ts: str | None = None,
    request_key: str | None = None,
    directory: Directory | None = None,
    from_delivery: str | None = None,
) -> DeliveryTicket:
    """Queue a roll back or tear-down of one environment; gated like any deploy.
    `from_delivery`: asked from that delivery's live message, which must still serve."""
    if why := unknown_environments(settings, [environment]):
        raise DecisionRefused(why)
    change = await _change_request(
        settings,
        directory,
        [environment],
        request_text=f"{operation.value} {service} in {environment}",
        operation=operation,
        environment=environment,
        requester=requester,
        slack_channel=channel,
        slack_thread_ts=thread_ts,
        request_key=request_key,
        from_delivery=from_delivery,
    )
    return await _update(
        client,
        service_workflow_id(service),
        ServiceWorkflow.request_change,
        change,
        DeliveryTicket,
        missing=f"I know no service called {service}",
    )


async def rollback_target(client: Client, service: str, environment: str) -> Deployment | None:
    """What a roll back of the environment would put back now; None when nothing would
    (or the service entity does not answer: then no button, and the command still works)."""
    handle = client.get_workflow_handle(service_workflow_id(service))
    try:
        return await handle.query(ServiceWorkflow.rollback_to, environment)
    except (RPCError, WorkflowQueryFailedError) as exc:
        log.info("no roll back target for %s in %s: %s", service, environment, exc)
        return None


async def _change_request(
    settings: Settings, directory: Directory | None, environments: list[str], **asked
) -> ChangeRequest:
    """What every request carries besides its own words: the rules of its environments,
    who may ask, and the stage timeouts, as the settings and Slack's groups say now."""
    directory = directory or Directory.for_settings(settings)
    return ChangeRequest(
        **asked,
        policies=await approval_policies(settings, environments, directory),
        access=await access_policy(settings, directory),
        timeouts=stage_timeouts(settings),
    )


async def current_spec(client: Client, service: str) -> ServiceSpec | None:
    """The running spec of a service, or None when there is no such service (yet)."""
    state = await service_state(client, service)
    return state.current_spec if state else None


async def service_state(client: Client, service: str) -> ServiceState | None:
    """What a service holds (versions, deployments), or None when there is no such service."""
    handle = client.get_workflow_handle(service_workflow_id(service))
    try:
        return await handle.query(ServiceWorkflow.describe, result_type=ServiceState)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def decide(
    client: Client,
    workflow_id: str,
    user: str,
    environment: str,
    *,
    approve: bool,
    reason: str = "",
    **how,
) -> GateStatus:
    """`how`: where the decision came from (origin, channel, message_ts) and the person's
    user groups, for the workflow's validator to judge."""
    update = DeliveryWorkflow.approve if approve else DeliveryWorkflow.reject
    decision = ApprovalDecision(user=user, environment=environment, reason=reason, **how)
    return await _update(client, workflow_id, update, decision, GateStatus)


async def cancel(
    client: Client, workflow_id: str, user: str, reason: str = "", **how
) -> DeliveryStatus:
    request = PersonAction(user=user, reason=reason, **how)
    return await _update(client, workflow_id, DeliveryWorkflow.cancel, request, DeliveryStatus)


async def retry(client: Client, workflow_id: str, user: str, **how) -> DeliveryStatus:
    request = PersonAction(user=user, **how)
    return await _update(client, workflow_id, DeliveryWorkflow.retry, request, DeliveryStatus)


async def _update(
    client: Client, workflow_id: str, update, argument, result_type, missing: str | None = None
):
    """`missing`: what to tell the person when there is no such workflow running."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(update, argument, result_type=result_type)
    except WorkflowUpdateFailedError as exc:
        if getattr(exc.cause, "type", None) == "CardNotReady":
            raise CardNotReady(_reason(exc)) from None
        raise DecisionRefused(_reason(exc)) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise DecisionRefused(missing or f"{workflow_id} has already ended") from None
        raise _engine_trouble(exc) from None


# Refusals written for people: the workflows' validators raise these types.
PLAIN_REFUSALS = {"ValueError", "DecisionNotAllowed", "CardNotReady"}


class CardNotReady(DecisionRefused):
    """The delivery does not know its card yet (it is being posted); ask again shortly."""


def _reason(exc: WorkflowUpdateFailedError) -> str:
    """The validator's sentence; anything else is an internal and stays in the log."""
    cause = exc.cause
    if isinstance(cause, ApplicationError) and cause.type in PLAIN_REFUSALS:
        return cause.message
    log.warning("update refused for an internal reason: %s", cause or exc)
    return "that delivery cannot take this decision (it may be from an older Shipmate)"


# What a status query can meet while a worker dies or the engine restarts, and passes.
PASSING_TROUBLE = (
    RPCStatusCode.CANCELLED,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.UNAVAILABLE,
)


def _engine_trouble(exc: RPCError) -> TemporalUnavailable:
    log.warning("Temporal refused a call: %s %s", exc.status, exc.message)
    return TemporalUnavailable("the workflow engine did not answer; nothing was decided")


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
    troubled_since = None
    while True:
        try:
            status = await delivery_status(handle)
            troubled_since = None
        except RPCError as exc:
            # a query no worker answered in time (its worker just died): ask again, for
            # a minute; an engine away longer is reported
            troubled_since = troubled_since or time.monotonic()
            if exc.status not in PASSING_TROUBLE or time.monotonic() - troubled_since > 60:
                raise
            status = None
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
