"""One line of `shipmate doctor`: what was checked, whether it holds, and the fix."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    essential: bool = True  # a port in use is a warning: the stack may already be running


def run_sync(coroutine):
    """Run a coroutine to its end from sync code, whether or not a loop runs in this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
