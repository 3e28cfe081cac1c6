"""Telling the service entity about a delivery's changes, from inside the DeliveryWorkflow.

The service entity keeps what is deployed where from these signals, so each one must
arrive, and the last one before the delivery ends. But a stage need not wait for its
signal to land before it starts: that wait cost a workflow task at every stage. So
signals go out in the background, one in flight at a time and always with the newest
status (a burst of changes becomes one signal), and the delivery flushes them before it
ends.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.coalesced import Coalesced
    from workflows.models import DELIVERY_CHANGED, DeliveryStatus


class ServiceUpdates(Coalesced):
    def __init__(self, service_workflow_id: str | None) -> None:
        self.service_workflow_id = service_workflow_id

    async def keep_current(self, status: Callable[[], DeliveryStatus]) -> None:
        """Runs for the workflow's life; a service rolling over is never fatal to a delivery
        (it reads the delivery's status again when it is back)."""

        async def send() -> None:
            try:
                await workflow.get_external_workflow_handle(self.service_workflow_id).signal(
                    DELIVERY_CHANGED, status()
                )
            except Exception:
                workflow.logger.warning(
                    "could not tell %s about a change", self.service_workflow_id
                )

        await self._keep_sending(send)
