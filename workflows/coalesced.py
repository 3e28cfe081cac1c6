"""Sending a workflow's newest state from inside it, coalesced: one send in flight at a
time, and it always carries the state as it is when it goes, so a burst of changes
becomes one send. Deterministic workflow code; the Slack thread (ThreadUpdates) and the
service entity (ServiceUpdates) are told this way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import workflow


class Coalesced:
    unsent = False  # changed since the last send
    sending = False

    def changed(self) -> None:
        self.unsent = True

    async def _keep_sending(self, send: Callable[[], Awaitable[None]]) -> None:
        """Runs for the workflow's life; `send` reads the state itself, when it goes."""
        while True:
            await workflow.wait_condition(lambda: self.unsent)
            self.unsent, self.sending = False, True
            await send()
            self.sending = False

    async def flush(self) -> None:
        """Before the workflow ends: the newest state has gone out."""
        await workflow.wait_condition(lambda: not self.unsent and not self.sending)
