"""How DeliveryWorkflow runs a stage: one activity, and on its failure a wait for a person.

A failed stage does not close the workflow at once: it waits (the retry window) for a
`retry` update, which re-runs the failed stage without redoing earlier ones, or for
`cancel`. Kept apart from workflows.delivery_workflow (StageRunner, a part of it) so the
workflow reads as its stages; the commands it issues are the same as before the move,
which the recorded histories of tests/workflows/test_replay.py hold it to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from workflows.delivery_run import DeliveryBase
    from workflows.models import Decision, DeliveryState, Stage, StageState
    from workflows.queues import queue_for

Input = TypeVar("Input")
Result = TypeVar("Result")

TRANSIENT = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
)


class StageFailed(Exception):
    """Internal: a stage failed and nobody retried it in time."""


class DeliveryCancelled(Exception):
    """Internal: someone cancelled the delivery through the `cancel` update."""


class StageRunner(DeliveryBase):
    """Part of DeliveryWorkflow: runs its stages, and waits for a person when one fails."""

    async def _run_stage(
        self,
        name: str,
        activity: Callable[[Input], Result],
        arg: Input,
        *,
        timeout: timedelta,
        heartbeat: timedelta | None = None,
    ) -> Result:
        """Run one stage's activity; on failure wait for a retry (from this stage) or cancel."""
        stage, delivery = self._stage(name), self._delivery
        while True:
            stage.state, stage.started_at, stage.finished_at = (
                StageState.running,
                workflow.now(),
                None,
            )
            await self._report()
            handle = workflow.start_activity(
                activity,
                arg,
                task_queue=queue_for(activity.__name__, arg),
                start_to_close_timeout=timeout,
                heartbeat_timeout=heartbeat,
                retry_policy=TRANSIENT,
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
            try:
                await workflow.wait_condition(
                    lambda h=handle: h.done() or delivery.cancel is not None
                )
            except asyncio.CancelledError:
                # The delivery is ending: a stage beside this one failed for good, or
                # the workflow itself was cancelled.
                await self._stop(stage, handle)
                raise
            if not handle.done():
                await self._stop(stage, handle)
                raise DeliveryCancelled()
            try:
                result = handle.result()
            except ActivityError as err:
                self._record_failure(stage, name, err)
                await self._wait_for_retry()
                continue
            stage.state, stage.finished_at = StageState.succeeded, workflow.now()
            return result

    async def _run_long_stage(
        self,
        name: str,
        activity: Callable[[Input], Result],
        arg: Input,
        at_least: timedelta = timedelta(0),
    ) -> Result:
        """A stage that may take minutes (Docker, AWS): the request's build timeout, or
        `at_least` when the waits inside need longer, and a heartbeat so that a worker
        that died is noticed."""
        timeouts = self._delivery.request.timeouts
        return await self._run_stage(
            name,
            activity,
            arg,
            timeout=max(timedelta(minutes=timeouts.build_minutes), at_least),
            heartbeat=timedelta(seconds=timeouts.heartbeat_seconds),
        )

    async def _stop(self, stage: Stage, handle: workflow.ActivityHandle[Any]) -> None:
        """Cancel the stage's activity and wait until it has stopped (its container too).
        One that finished before the cancel reached it shows as succeeded, as it did."""
        handle.cancel()
        try:
            await handle
            stage.state = StageState.succeeded
        except (ActivityError, asyncio.CancelledError):
            stage.state = StageState.cancelled
        stage.finished_at = workflow.now()

    async def _side_by_side(self, *steps: Awaitable[Any]) -> list[Any]:
        """Run independent steps at once; their results in order. When one ends the
        delivery (failed for good, cancelled), the others are stopped before it ends."""
        tasks = [asyncio.create_task(step) for step in steps]
        try:
            return await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    def _record_failure(self, stage: Stage, name: str, err: ActivityError) -> None:
        status = self._delivery.status
        self._delivery.failures += 1
        stage.state, stage.finished_at = StageState.failed, workflow.now()
        cause = err.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
        status.error = f"{name} failed: {message}"
        status.log_tail = None
        if isinstance(cause, ApplicationError) and cause.details:
            detail = cause.details[0]
            status.log_tail = detail if isinstance(detail, str) else "\n".join(detail)

    async def _wait_for_retry(self) -> None:
        """Wait for a retry click. Stages that failed side by side wait together: one
        click (one audit entry) re-runs them all."""
        delivery, status = self._delivery, self._delivery.status
        clicks_before = delivery.retry_clicks
        delivery.stages_failed += 1
        status.retry_possible = True  # before the state shows: a click may come at once
        await self._set_state(DeliveryState.failed)
        window = timedelta(seconds=delivery.request.timeouts.retry_window_seconds)
        try:
            await workflow.wait_condition(
                lambda: delivery.retry_clicks != clicks_before or delivery.cancel is not None,
                timeout=window,
            )
        except TimeoutError:
            raise StageFailed() from None
        finally:
            delivery.stages_failed -= 1
            status.retry_possible = delivery.stages_failed > 0
        if delivery.cancel is not None:
            raise DeliveryCancelled()
        if delivery.retry is None:  # a stage beside this one has taken the click already
            return
        status.record(delivery.retry, Decision.retried, workflow.now())
        delivery.retry = None
        status.error = status.log_tail = None
        await self._set_state(DeliveryState.running)
