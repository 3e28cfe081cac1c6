"""Deploy targets behind one interface (base.DeployTargetDriver).

A new target (Lambda, Kubernetes) is one module with a driver class and one entry in
TARGETS; the deploy and verify activities never change.
"""

from __future__ import annotations

from activities.deploy_targets.base import DeployFailed, DeployTargetDriver
from activities.deploy_targets.ecs import AwsEcs
from activities.deploy_targets.local import LocalDocker
from workflows.spec import DeployTarget

TARGETS: dict[DeployTarget, DeployTargetDriver] = {
    DeployTarget.local: LocalDocker(),
    DeployTarget.aws_ecs: AwsEcs(),
}


def driver_for(target: DeployTarget) -> DeployTargetDriver:
    try:
        return TARGETS[target]
    except KeyError:
        raise DeployFailed(
            f"deploying to {target.value} is not something I can do yet; "
            "ask for ECS or the local Docker engine"
        ) from None


__all__ = ["TARGETS", "DeployFailed", "DeployTargetDriver", "driver_for"]
