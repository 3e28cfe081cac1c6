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
from workflows.models import DeployInput, DeployResult

Heartbeat = Callable[[str], None]


class DeployFailed(Exception):
    """The target refused the deploy or the new version never served; no retry helps."""


class DeployTargetDriver(Protocol):
    def deploy(self, settings: Settings, request: DeployInput) -> DeployResult: ...

    def verify(self, settings: Settings, deployed: DeployResult, heartbeat: Heartbeat) -> None: ...
