"""How DeliveryWorkflow runs a stage: one activity, and on its failure a wait for a person.

A failed stage does not close the workflow at once: it waits (the retry window) for a
`retry` update, which re-runs the failed stage without redoing earlier ones, or for
`cancel`. Kept apart from workflows.delivery_workflow (StageRunner, mixed into it) so the
workflow reads as its stages; the commands it issues are the same as before the move,
which the recorded histories of tests/workflows/test_replay.py hold it to.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from workflows.models import Decision, DeliveryState, Stage, StageState

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


class StageRunner:
    """Mixed into DeliveryWorkflow: uses its status, cancel and retry requests, and reports."""

    _retry_clicks = 0  # retry clicks taken so far: a failed stage waits for the next one
    _stages_failed = 0  # failed stages waiting for that click

    async def _run_stage(self, name, activity, arg, *, timeout, heartbeat=None):
        """Run one stage's activity; on failure wait for a retry (from this stage) or cancel."""
        stage = self._stage(name)
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
                start_to_close_timeout=timeout,
                heartbeat_timeout=heartbeat,
                retry_policy=TRANSIENT,
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
            try:
                await workflow.wait_condition(lambda h=handle: h.done() or self._cancel is not None)
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

    async def _stop(self, stage: Stage, handle) -> None:
        """Cancel the stage's activity and wait until it has stopped (its container too).
        One that finished before the cancel reached it shows as succeeded, as it did."""
        handle.cancel()
        try:
            await handle
            stage.state = StageState.succeeded
        except (ActivityError, asyncio.CancelledError):
            stage.state = StageState.cancelled
        stage.finished_at = workflow.now()

    async def _side_by_side(self, *steps):
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
        self._failures += 1
        stage.state, stage.finished_at = StageState.failed, workflow.now()
        cause = err.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
        self._status.error = f"{name} failed: {message}"
        self._status.log_tail = None
        if isinstance(cause, ApplicationError) and cause.details:
            detail = cause.details[0]
            self._status.log_tail = detail if isinstance(detail, str) else "\n".join(detail)

    async def _wait_for_retry(self) -> None:
        """Wait for a retry click. Stages that failed side by side wait together: one
        click (one audit entry) re-runs them all."""
        clicks_before = self._retry_clicks
        self._stages_failed += 1
        self._status.retry_possible = True  # before the state shows: a click may come at once
        await self._set_state(DeliveryState.failed)
        window = timedelta(seconds=self._request.timeouts.retry_window_seconds)
        try:
            await workflow.wait_condition(
                lambda: self._retry_clicks != clicks_before or self._cancel is not None,
                timeout=window,
            )
        except TimeoutError:
            raise StageFailed() from None
        finally:
            self._stages_failed -= 1
            self._status.retry_possible = self._stages_failed > 0
        if self._cancel is not None:
            raise DeliveryCancelled()
        if self._retry is None:  # a stage beside this one has taken the click already
            return
        self._status.record(self._retry, Decision.retried, workflow.now())
        self._retry = None
        self._status.error = self._status.log_tail = None
        await self._set_state(DeliveryState.running)
