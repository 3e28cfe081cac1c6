"""Waiting for a real part to reach a state, under one generous deadline.

CI shares its machine with other work, so a part that answers in a second here
can take twenty there. A wait ends the moment its state is reached, so a long
deadline costs a fast machine nothing and spares a slow one a false failure.
Raise `SHIPMATE_TEST_PATIENCE` (seconds) on a machine slower still.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

PATIENCE = float(os.environ.get("SHIPMATE_TEST_PATIENCE", "90"))


async def eventually(
    check: Callable[[], Awaitable[T] | T],
    *,
    timeout: float = PATIENCE,
    interval: float = 0.1,
    what: str = "condition",
) -> T:
    """The first truthy result of `check()` (awaited if it is a coroutine).

    At the deadline, an AssertionError naming `what` and the last result.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout:.0f}s; last saw {result!r}")
        await asyncio.sleep(interval)


def eventually_sync(
    check: Callable[[], T],
    *,
    timeout: float = PATIENCE,
    interval: float = 0.1,
    what: str = "condition",
) -> T:
    """`eventually` for code outside an event loop."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout:.0f}s; last saw {result!r}")
        time.sleep(interval)
