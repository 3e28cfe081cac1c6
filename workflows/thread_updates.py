"""Keeping a delivery's Slack thread current, from inside the DeliveryWorkflow.

Deterministic workflow code: it only decides when the `notify` activity runs and with
what. One card edit is in flight at a time and always carries the newest status, so
a burst of stage changes becomes one edit; each moment is announced once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows import activity_contracts as contracts
    from workflows.coalesced import Coalesced
    from workflows.models import DeliveryStatus
    from workflows.moments import thread_moments
    from workflows.queues import queue_for
    from workflows.stage_models import Moment, NotifyInput

NOTIFY_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=10)


class ThreadUpdates(Coalesced):
    def __init__(self, channel: str | None, thread_ts: str | None) -> None:
        self.channel, self.thread_ts = channel, thread_ts
        self.card_ts: str | None = None
        self.announced: set[Moment] = set()

    async def keep_current(
        self, status: Callable[[], DeliveryStatus], failures: Callable[[], int]
    ) -> None:
        """Runs for the workflow's life; Slack being down is never fatal to a delivery."""

        async def send() -> None:
            now = status()
            moments = [m for m in thread_moments(now, failures()) if m not in self.announced]
            update = NotifyInput(
                status=now,
                channel=self.channel,
                thread_ts=self.thread_ts,
                card_ts=self.card_ts,
                announce=moments,
            )
            try:
                result = await workflow.execute_activity(
                    contracts.notify,
                    update,
                    task_queue=queue_for("notify"),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=NOTIFY_RETRY,
                )
                if self.card_ts == update.card_ts:  # else the outbox told where it is now
                    self.card_ts = result.card_ts or self.card_ts
                self.announced.update(moments)
            except ActivityError:
                workflow.logger.warning("Slack notification failed; the next change retries it")

        await self._keep_sending(send)

    async def flush(self) -> None:
        """Before the workflow ends: the last card edit is sent, not abandoned in flight."""
        if self.channel:
            await super().flush()
