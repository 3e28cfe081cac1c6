"""One line of `shipmate doctor`: what was checked, whether it holds, and the fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    essential: bool = True  # a port in use is a warning: the stack may already be running
