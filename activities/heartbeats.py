"""A stage that heartbeats for as long as it works, whatever call it is blocked in.

A heartbeat timeout is how Temporal learns that a worker died in the middle of a
stage and hands the stage to another worker. Docker, AWS and database calls block
for seconds to minutes without a chance to report, so a thread beside the stage
heartbeats on its behalf while it runs (a dead worker takes that thread with it);
stuck calls are caught by their own timeouts, not by silence.
"""

from __future__ import annotations

import contextvars
import functools
import threading
from collections.abc import Callable
from typing import TypeVar

from temporalio import activity

Stage = TypeVar("Stage", bound=Callable)


def keeps_heartbeating(stage: Stage) -> Stage:
    """Wrap a sync activity so it heartbeats every quarter of its heartbeat timeout."""

    @functools.wraps(stage)
    def run(*args, **kwargs):
        timeout = activity.info().heartbeat_timeout
        if not timeout:
            return stage(*args, **kwargs)
        every = max(timeout.total_seconds() / 4, 0.5)
        context = contextvars.copy_context()  # the activity's, for activity.heartbeat
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(every):
                context.run(activity.heartbeat, "working")

        beater = threading.Thread(target=beat, name="heartbeat", daemon=True)
        beater.start()
        try:
            return stage(*args, **kwargs)
        finally:
            stop.set()
            beater.join()

    return run  # type: ignore[return-value]
