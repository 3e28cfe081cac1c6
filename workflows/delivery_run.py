"""What one delivery holds while it runs, declared once, and the bookkeeping every part
of DeliveryWorkflow shares.

DeliveryWorkflow is put together from parts that each read as one concern (StageRunner,
Gates, DeploySteps, UndoSteps). They all stand on DeliveryBase: the state they read and
write is the one `Delivery` made in `@workflow.init`, with its types, rather than
attributes each part assumes the others set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import search
    from workflows.models import (
        ApprovalPolicy,
        DeliveryRequest,
        DeliveryState,
        DeliveryStatus,
        GateStatus,
        PersonAction,
        Stage,
    )
    from workflows.service_updates import ServiceUpdates
    from workflows.thread_updates import ThreadUpdates


@dataclass
class Delivery:
    """The state of one delivery: what was asked, what the card shows, what people did."""

    request: DeliveryRequest
    status: DeliveryStatus
    thread: ThreadUpdates
    # Who to tell of each change in the background; stays empty for deliveries that wait
    # for each signal instead (started before that patch, or without a service).
    service: ServiceUpdates = field(default_factory=lambda: ServiceUpdates(None))
    cancel: PersonAction | None = None  # the cancel update taken, if any
    retry: PersonAction | None = None  # the retry click not yet acted on
    retry_clicks: int = 0  # retry clicks taken so far: a failed stage waits for the next
    stages_failed: int = 0  # failed stages waiting for that click
    failures: int = 0  # stage failures so far (the thread announces each)
    rules_known: bool = False  # a worker said its rules (before that, only its requester)


class DeliveryBase:
    """The ground every part of DeliveryWorkflow stands on: its state and bookkeeping."""

    _delivery: Delivery

    def _stage(self, name: str) -> Stage:
        return self._delivery.status.stage(name)

    def _gate_for(self, env: str) -> GateStatus:
        return self._delivery.status.gate(env)

    def _policy(self, env: str) -> ApprovalPolicy:
        return self._delivery.request.policies.get(env, ApprovalPolicy())

    async def _set_state(self, state: DeliveryState) -> None:
        self._delivery.status.state = state
        workflow.upsert_search_attributes([search.STATE.value_set(state.value)])
        await self._report()

    async def _report(self, deployments_changed: bool = False) -> None:
        """Tell the service entity and the Slack thread soon (both coalesce changes).
        A change to what is deployed where reaches the service before the thread hears
        of it: the reply that says so asks the service what it could roll back to."""
        delivery = self._delivery
        if delivery.service.service_workflow_id:
            delivery.service.changed()
            if deployments_changed:
                await delivery.service.flush()
        delivery.thread.changed()

    async def _flush(self) -> None:
        """Before the delivery ends: the service and the thread have its last status."""
        await self._delivery.service.flush()
        await self._delivery.thread.flush()
