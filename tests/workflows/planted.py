"""Test-only variants of the workflows, each with one change planted on one path.

Each variant is the real workflow with one more activity call (`planted_step`) where
only one path goes: a roll back, a tear down, a fired reminder, an expiry, a cancel, a
taken retry, a service's second delivery in a run, a service continuing as new, the
run it continued into, an outbox rolling over with a backlog. The real code is not
touched: tests/workflows/test_replay_paths.py replays each path's kept fixture against
its variant and expects the replay to fail, as it would for a change shipped without
`workflow.patched`.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import search
    from workflows.delivery_workflow import DeliveryWorkflow
    from workflows.models import (
        ChangeRequest,
        DeliveryRequest,
        DeliveryState,
        DeliveryStatus,
        GateStatus,
        ServiceState,
    )
    from workflows.outbox_messages import OutboxState
    from workflows.outbox_workflow import OUTBOX_TYPE, SlackOutbox
    from workflows.service_workflow import ServiceWorkflow

PLANTED = "planted_step"


async def plant() -> None:
    """The planted change: one more activity call."""
    await workflow.execute_activity(PLANTED, start_to_close_timeout=timedelta(minutes=1))


class _Delivery(DeliveryWorkflow):
    """The real delivery; each subclass below plants on one path."""

    async def _set_state(self, state: DeliveryState) -> None:
        if state == getattr(self, "PLANT_ON_STATE", None):
            await plant()
        await super()._set_state(state)


@workflow.defn(name=search.DELIVERY_TYPE)
class RollBackDoesMore(_Delivery):
    @workflow.run
    async def run(self, request: DeliveryRequest) -> DeliveryStatus:
        return await super().run(request)

    async def _roll_back(self, request: DeliveryRequest) -> None:
        await plant()
        await super()._roll_back(request)


@workflow.defn(name=search.DELIVERY_TYPE)
class TearDownDoesMore(_Delivery):
    @workflow.run
    async def run(self, request: DeliveryRequest) -> DeliveryStatus:
        return await super().run(request)

    async def _tear_down(self, request: DeliveryRequest) -> None:
        await plant()
        await super()._tear_down(request)


@workflow.defn(name=search.DELIVERY_TYPE)
class ReminderDoesMore(_Delivery):
    """Plants where a gate waits on after its reminder went out."""

    @workflow.run
    async def run(self, request: DeliveryRequest) -> DeliveryStatus:
        return await super().run(request)

    async def _decided_within(self, gate: GateStatus, seconds: float) -> bool:
        if gate.reminded:
            await plant()
        return await super()._decided_within(gate, seconds)


@workflow.defn(name=search.DELIVERY_TYPE)
class ExpiryDoesMore(_Delivery):
    PLANT_ON_STATE = DeliveryState.expired

    @workflow.run
    async def run(self, request: DeliveryRequest) -> DeliveryStatus:
        return await super().run(request)


@workflow.defn(name=search.DELIVERY_TYPE)
class CancelDoesMore(_Delivery):
    PLANT_ON_STATE = DeliveryState.cancelled

    @workflow.run
    async def run(self, request: DeliveryRequest) -> DeliveryStatus:
        return await super().run(request)


@workflow.defn(name=search.DELIVERY_TYPE)
class RetryDoesMore(_Delivery):
    """Plants once a retry click has been taken (not when the window runs out)."""

    @workflow.run
    async def run(self, request: DeliveryRequest) -> DeliveryStatus:
        return await super().run(request)

    async def _wait_for_retry(self) -> None:
        await super()._wait_for_retry()
        await plant()


@workflow.defn(name=search.SERVICE_TYPE)
class SecondDeliveryDoesMore(ServiceWorkflow):
    """Plants before the second delivery one run of the service starts."""

    @workflow.run
    async def run(self, state: ServiceState) -> None:
        self._taken = 0
        await super().run(state)

    async def _deliver(self, change: ChangeRequest) -> None:
        self._taken += 1
        if self._taken == 2:
            await plant()
        await super()._deliver(change)


@workflow.defn(name=search.SERVICE_TYPE)
class ContinueAsNewDoesMore(ServiceWorkflow):
    """Plants after a delivery that takes the history past its limit (the run then
    continues as new)."""

    @workflow.run
    async def run(self, state: ServiceState) -> None:
        await super().run(state)

    async def _deliver(self, change: ChangeRequest) -> None:
        await super()._deliver(change)
        if workflow.info().get_current_history_length() > self._state.history_limit:
            await plant()


@workflow.defn(name=search.SERVICE_TYPE)
class ContinuedRunDoesMore(ServiceWorkflow):
    """Plants at the start of a run that a continue-as-new began."""

    @workflow.run
    async def run(self, state: ServiceState) -> None:
        if state.continued:
            await plant()
        await super().run(state)


@workflow.defn(name=OUTBOX_TYPE)
class BacklogRollOverDoesMore(SlackOutbox):
    """Plants where an outbox rolls over with messages still queued."""

    @workflow.run
    async def run(self, state: OutboxState) -> None:
        await super().run(state)

    async def _roll_over(self) -> None:
        if self._state.queue:
            await plant()
        await super()._roll_over()


@workflow.defn(name=OUTBOX_TYPE)
class StashDoesMore(SlackOutbox):
    """Plants where an outbox stashes a backlog too big to carry."""

    @workflow.run
    async def run(self, state: OutboxState) -> None:
        await super().run(state)

    async def _stash(self, backlog):
        await plant()
        return await super()._stash(backlog)


@workflow.defn(name=OUTBOX_TYPE)
class TakeBackDoesMore(SlackOutbox):
    """Plants where an outbox takes a stashed backlog back."""

    @workflow.run
    async def run(self, state: OutboxState) -> None:
        await super().run(state)

    async def _take_back(self, keys: list[str]) -> list[str]:
        await plant()
        return await super()._take_back(keys)
