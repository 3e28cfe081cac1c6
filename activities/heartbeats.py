"""A stage that heartbeats for as long as it works, whatever call it is blocked in.

A heartbeat timeout is how Temporal learns that a worker died in the middle of a
stage and hands the stage to another worker. Docker, AWS and database calls block
for seconds to minutes without a chance to report, so a thread beside the stage
heartbeats on its behalf while it runs (a dead worker takes that thread with it);
stuck calls are caught by their own timeouts, not by silence.

The same thread carries a cancel the other way. Temporal delivers it to a sync stage
by raising in its thread, which happens only when that thread runs Python again; a
stage blocked in a socket read (a Docker build in a silent step) would run on for
minutes. So a blocking call registers how to interrupt it (interrupt_on_cancel), and
the heartbeat thread calls that as soon as the cancel has arrived.

What the beats carry is the stage's last real progress (a build's step, the tests
passed so far, the layers pushed), which the stage reports through `progress`: the
beat beside it repeats that, so the engine's pending activity, and `shipmate status`,
say how far a stage got, not merely that it lives.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from temporalio import activity

Stage = TypeVar("Stage", bound=Callable)
log = logging.getLogger(__name__)
_interrupters: contextvars.ContextVar[list[Callable[[], None]] | None] = contextvars.ContextVar(
    "interrupters", default=None
)
_last_progress: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "last_progress", default=None
)
STARTED = "started"  # what a stage that has reported nothing yet is doing


def progress(detail: str) -> None:
    """Report how far the running stage got (heartbeat details); the keep-alive beat
    repeats it until the next one. Outside a stage, nothing to report to."""
    held = _last_progress.get()
    if held is not None:
        held[0] = detail
    if activity.in_activity():
        activity.heartbeat(detail)


@contextmanager
def interrupt_on_cancel(interrupt: Callable[[], None]) -> Iterator[None]:
    """While inside, a cancel of the running stage calls `interrupt` (from the heartbeat
    thread): it must make the blocked call return, e.g. by hanging up its socket."""
    registry = _interrupters.get()
    if registry is None:  # not under keeps_heartbeating: nothing would call it
        yield
        return
    registry.append(interrupt)
    try:
        yield
    finally:
        registry.remove(interrupt)


def keeps_heartbeating(stage: Stage) -> Stage:
    """Wrap a sync activity so it heartbeats every quarter of its heartbeat timeout,
    repeating the last progress the stage reported."""

    @functools.wraps(stage)
    def run(*args, **kwargs):
        timeout = activity.info().heartbeat_timeout
        if not timeout:
            return stage(*args, **kwargs)
        every = max(timeout.total_seconds() / 4, 0.5)
        interrupters: list[Callable[[], None]] = []
        _interrupters.set(interrupters)  # this thread's context: the stage registers here
        last = [STARTED]
        _last_progress.set(last)  # what `progress` records, for the beat to repeat
        context = contextvars.copy_context()  # the activity's, for activity.heartbeat
        stop = threading.Event()

        def beat() -> None:
            interrupted, waited = False, 0.0
            while not stop.wait(0.5):
                waited += 0.5
                if waited >= every:
                    context.run(activity.heartbeat, last[0])
                    waited = 0.0
                if not interrupted and context.run(activity.is_cancelled):
                    interrupted = True
                    for interrupt in list(interrupters):
                        try:
                            interrupt()
                        except Exception:  # the stage ends on its own timeout then
                            log.warning("could not interrupt a cancelled stage", exc_info=True)

        beater = threading.Thread(target=beat, name="heartbeat", daemon=True)
        beater.start()
        try:
            return stage(*args, **kwargs)
        finally:
            stop.set()
            beater.join()
            _interrupters.set(None)
            _last_progress.set(None)

    return run  # type: ignore[return-value]
