"""What every deploy target does, so a new one (Lambda, Kubernetes) is one module.

A target deploys one service image to one environment and then waits until that
deploy serves. Both steps are idempotent: a retried activity redeploys nothing that
already runs. A person's mistake (a setting AWS refuses, a version that never answers)
is raised as DeployFailed with a message that says what to fix; anything else is the
system's and left to Temporal's retries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from shipmate.settings import Settings
from workflows.stage_models import DeployInput, DeployResult, TeardownInput

Heartbeat = Callable[[str], None]


class DeployFailed(Exception):
    """The target refused the deploy or the new version never served; no retry helps.

    `log_tail` is what the new version said last, for the thread.
    """

    def __init__(self, message: str, log_tail: list[str] | None = None):
        super().__init__(message)
        self.log_tail = log_tail or []


class DeployTargetDriver(Protocol):
    def deploy(
        self, settings: Settings, request: DeployInput, heartbeat: Heartbeat
    ) -> DeployResult:
        """Make the version serve at the environment's stable address, or leave the live
        one serving and raise DeployFailed saying "rolled back"."""

    def verify(self, settings: Settings, deployed: DeployResult, heartbeat: Heartbeat) -> None:
        """Wait until the stable address answers from the new version."""

    def describe_teardown(self, settings: Settings, request: TeardownInput) -> str:
        """What tear-down would delete, in words, for the confirmation people approve."""

    def tear_down(self, settings: Settings, request: TeardownInput, heartbeat: Heartbeat) -> str:
        """Delete everything this installation made for the service and environment."""
