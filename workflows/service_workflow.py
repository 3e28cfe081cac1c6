"""ServiceWorkflow: the living record of one service (id `service/<name>`).

It keeps the service's spec versions, its deliveries and what is deployed in each
environment, runs one delivery at a time and queues the next change request. It is
long-lived, so it continues as new (carrying its state) before its history grows large.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from workflows import search
    from workflows.delivery_workflow import DeliveryWorkflow
    from workflows.models import (
        DELIVERY_CHANGED,
        ChangeRequest,
        DeliveryRecord,
        DeliveryRequest,
        DeliveryState,
        DeliveryStatus,
        DeliveryTicket,
        Deployment,
        Operation,
        RequestedChange,
        ServiceState,
    )
    from workflows.patches import UNIQUE_DELIVERY_IDS
    from workflows.undoing import (
        check_nothing_in_flight,
        check_undo,
        forget_torn_down,
        remember_replaced,
        rollback_target,
        undo_request,
    )
    from workflows.unreadable import UNREADABLE_TEXT, unreadable

MAX_QUEUE = 20
KEEP_DELIVERIES = 100
KEEP_SPECS = 50


def service_workflow_id(name: str) -> str:
    return f"service/{name}"


def name_taken(state: ServiceState) -> str:
    """Why a request for a new service of a name that exists is refused, and what to do."""
    current = state.current_spec
    if current is None:
        held = "its first version is on its way"
    else:
        entities = ", ".join(e.name for e in current.entities)
        held = f"v{current.version}" + (f": {entities}" if entities else "")
    return (
        f"{state.name} already exists ({held}), and a new service of that name would "
        f"replace it. Ask for a change of {state.name}, or give the new service another name."
    )


@workflow.defn(name=search.SERVICE_TYPE)
class ServiceWorkflow:
    @workflow.init
    def __init__(self, state: ServiceState) -> None:
        # Set here, not in run: update-with-start delivers the update before run begins.
        self._state = state
        self._running: DeliveryRecord | None = None

    @workflow.query
    def describe(self) -> ServiceState:
        return self._state

    @workflow.query
    def deployments(self) -> dict[str, Deployment]:
        return self._state.deployments

    @workflow.query
    def rollback_to(self, environment: str) -> Deployment | None:
        """What `roll back` would put back in that environment now: a live message offers
        its Roll back button only when there is one."""
        return rollback_target(self._state, environment)

    @workflow.update
    def request_change(self, change: ChangeRequest) -> DeliveryTicket:
        known = self._state.request_keys.get(change.request_key or "")
        if known:  # the same Slack message delivered twice, or to two bot replicas
            return DeliveryTicket(delivery_id=known, queued_behind=0, asked_before=True)
        self._state.delivery_count += 1
        delivery_id = f"delivery/{self._state.name}/{self._state.delivery_count}"
        if workflow.patched(UNIQUE_DELIVERY_IDS):
            # Unique for ever: a recreated service entity restarts its count, and an old
            # card's buttons must never reach the new delivery that reuses a number.
            delivery_id += f"-{str(workflow.uuid4())[:6]}"
        change = change.model_copy(update={"delivery_id": delivery_id})
        if change.request_key:
            keys = {**self._state.request_keys, change.request_key: delivery_id}
            self._state.request_keys = dict(list(keys.items())[-KEEP_DELIVERIES:])
        self._state.queue.append(change)
        ahead = len(self._state.queue) - 1 + (1 if self._still_running() else 0)
        return DeliveryTicket(delivery_id=delivery_id, queued_behind=ahead)

    def _exists(self) -> bool:
        """A version went live, something is deployed, or a delivery is on its way."""
        state = self._state
        return bool(state.specs or state.deployments or state.queue or self._still_running())

    def _still_running(self) -> bool:
        """The running delivery has not reported its end yet (it is reaped a moment after)."""
        return self._running is not None and self._running.state in (
            DeliveryState.running,
            DeliveryState.waiting_for_approval,
        )

    @request_change.validator
    def _validate_change(self, change: ChangeRequest) -> None:
        if not change.request_text.strip() and change.spec is None:
            raise ValueError("a change request needs some text")
        if unreadable(change.request_text):
            raise ValueError(UNREADABLE_TEXT)
        if not change.access.may_request(change.requester):
            raise ValueError(
                f"<@{change.requester}> may not ask for builds or changes; an admin can add "
                "you to SHIPMATE_DEVELOPERS"
            )
        if change.request_key and change.request_key in self._state.request_keys:
            return  # asked again (a redelivery, a double click): the first answer stands
        if change.spec is not None and change.spec.name != self._state.name:
            raise ValueError(f"that spec is for {change.spec.name}, not {self._state.name}")
        if len(self._state.queue) >= MAX_QUEUE:
            raise ValueError(f"{self._state.name} already has {MAX_QUEUE} changes waiting")
        if change.new_service and self._exists():
            raise ValueError(name_taken(self._state))
        if change.operation != Operation.build:
            check_undo(self._state, change)
        if change.from_delivery is not None:
            running = [self._running.delivery_id] if self._still_running() else []
            check_nothing_in_flight(
                self._state.name, running + [c.delivery_id for c in self._state.queue]
            )

    @workflow.signal(name=DELIVERY_CHANGED)
    def delivery_changed(self, status: DeliveryStatus) -> None:
        """Deliveries report every state change, so what is deployed where is always current."""
        record = next(
            (r for r in self._state.deliveries if r.delivery_id == status.delivery_id), None
        )
        if record is None:
            return
        record.state, record.version, record.error = status.state, status.version, status.error
        record.audit = status.audit
        for deployment in status.deployments:
            remember_replaced(self._state, deployment)
            self._state.deployments[deployment.environment] = deployment
        forget_torn_down(self._state, status.torn_down)
        if status.state == DeliveryState.succeeded and status.spec is not None:
            if not any(s.version == status.spec.version for s in self._state.specs):
                self._state.specs = [*self._state.specs, status.spec][-KEEP_SPECS:]
                # The next version is written on top of this one's repository.
                self._state.repository = status.repository
        if status.state == DeliveryState.succeeded:
            record.repository = status.repository  # "review orders-api v3" reads it

    @workflow.run
    async def run(self, state: ServiceState) -> None:
        workflow.upsert_search_attributes([search.SERVICE.value_set(state.name)])
        while True:
            await workflow.wait_condition(lambda: bool(self._state.queue))
            change = self._state.queue.pop(0)
            await self._deliver(change)
            if workflow.info().get_current_history_length() > self._state.history_limit:
                await workflow.wait_condition(workflow.all_handlers_finished)
                self._state.continued += 1
                workflow.continue_as_new(self._state)

    async def _deliver(self, change: ChangeRequest) -> None:
        current = self._state.current_spec
        record = DeliveryRecord(
            delivery_id=change.delivery_id,
            requester=change.requester,
            request_text=change.request_text[:500],
            slack_channel=change.slack_channel,
            slack_thread_ts=change.slack_thread_ts,
        )
        self._state.deliveries = [*self._state.deliveries, record][-KEEP_DELIVERIES:]
        self._running = record
        asked = {name: getattr(change, name) for name in RequestedChange.model_fields}
        request = DeliveryRequest(
            **asked,
            service=self._state.name,
            base_spec=current,
            version=(current.version + 1) if current else 1,
            repository=self._state.repository,
        )
        if change.operation != Operation.build:
            try:  # what was true when it was asked may have changed while it queued
                check_undo(self._state, change)
            except ValueError as exc:
                record.state, record.error = DeliveryState.failed, str(exc)
                self._running = None
                return
            request = undo_request(self._state, request)
        child = await workflow.start_child_workflow(
            DeliveryWorkflow.run,
            request,
            id=change.delivery_id,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        # A failed delivery waits for a retry; a newer change request supersedes it.
        await workflow.wait_condition(
            lambda: (
                child.done() or (record.state == DeliveryState.failed and bool(self._state.queue))
            )
        )
        if not child.done():
            child.cancel()
        try:
            await child
        except (ChildWorkflowError, asyncio.CancelledError):
            if record.state not in (DeliveryState.failed, DeliveryState.cancelled):
                record.state = DeliveryState.failed
        self._running = None
