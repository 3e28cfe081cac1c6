"""Worker Versioning: each worker says which build of Shipmate it runs, and Temporal
sends work only to the current build's workers.

In a rolling upgrade old and new code poll side by side. Without versions a history
written by new code can reach an old worker (a non-determinism failure), and an
activity the new code added can reach a worker without it (its retries burnt). With
them, once a build is current every workflow and activity task goes to its workers and
the older builds' workers take nothing more. Workflows auto-upgrade: a delivery parked
at a gate under the old build carries on under the new one at its next task, so a code
change that alters what a running workflow does still goes behind `workflow.patched`
(workflows/patches.py); the README says how a marker lives and retires.

A worker with the workflows role makes its own build current once its queues are
polled: the newest pods of a rolling upgrade win, and `helm rollback` restores the old
build the same way. Every role of one installation runs one build (Helm sets the image
tag), or an activity can wait on a queue no worker of the current build polls.
"""

from __future__ import annotations

import asyncio
import hashlib
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from temporalio.api.deployment import v1 as deployment
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentRequest,
    DescribeWorkerDeploymentVersionRequest,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import WorkerDeploymentConfig

from shipmate.settings import Settings

# The packages whose code decides what a worker does with a history or a task.
WORKER_CODE = ("workflows", "activities", "understanding", "shipmate", "cli")
ROOT = Path(__file__).resolve().parent.parent
# Answers that mean "not registered yet": the first polls are still on their way.
NOT_YET = (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION)


class VersioningUnavailable(RuntimeError):
    """The Temporal service cannot route by build (too old, or not allowed)."""


@lru_cache(maxsize=1)
def code_build_id() -> str:
    """The package version and a digest of the worker's code: a changed workflow on a
    developer's machine is a new build, without anyone remembering to bump a number."""
    digest = hashlib.sha256()
    for package in WORKER_CODE:
        for path in sorted((ROOT / package).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    try:
        release = version("shipmate")
    except PackageNotFoundError:
        release = "0"
    return f"{release}+{digest.hexdigest()[:12]}"


def build_id(settings: Settings) -> str:
    return settings.build_id or code_build_id()


def deployment_name(settings: Settings) -> str:
    return settings.worker_deployment or settings.task_queue


def deployment_config(settings: Settings) -> WorkerDeploymentConfig | None:
    """What every worker of this process polls as; None when versioning is off."""
    if not settings.worker_versioning:
        return None
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(deployment_name(settings), build_id(settings)),
        use_worker_versioning=True,
        default_versioning_behavior=VersioningBehavior.AUTO_UPGRADE,
    )


async def current_build(client: Client, settings: Settings) -> str | None:
    """The build Temporal sends this deployment's work to; None before any is current."""
    described = await client.workflow_service.describe_worker_deployment(
        DescribeWorkerDeploymentRequest(
            namespace=client.namespace, deployment_name=deployment_name(settings)
        )
    )
    routing = described.worker_deployment_info.routing_config
    return routing.current_deployment_version.build_id or None


async def _polled_queues(client: Client, settings: Settings) -> set[str]:
    described = await client.workflow_service.describe_worker_deployment_version(
        DescribeWorkerDeploymentVersionRequest(
            namespace=client.namespace,
            deployment_version=deployment.WorkerDeploymentVersion(
                deployment_name=deployment_name(settings), build_id=build_id(settings)
            ),
        )
    )
    return {info.name for info in described.worker_deployment_version_info.task_queue_infos}


async def make_current(
    client: Client, settings: Settings, queues: list[str], wait_seconds: float = 60.0
) -> None:
    """Once Temporal has seen this build poll each of `queues`, route the deployment's
    work to it. Raises VersioningUnavailable, saying what to do, when it cannot."""
    name, build = deployment_name(settings), build_id(settings)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        try:
            if await current_build(client, settings) == build:
                return
            if set(queues) <= await _polled_queues(client, settings):
                await client.workflow_service.set_worker_deployment_current_version(
                    SetWorkerDeploymentCurrentVersionRequest(
                        namespace=client.namespace,
                        deployment_name=name,
                        build_id=build,
                        # queues of roles other processes run join as they start
                        ignore_missing_task_queues=True,
                        identity=client.identity,
                    )
                )
                return
        except RPCError as err:
            if err.status not in NOT_YET or loop.time() > deadline:
                raise VersioningUnavailable(
                    f"Temporal did not make build {build} of worker deployment {name} "
                    f"current ({err.message}). Worker Versioning needs Temporal server "
                    "1.28 or later (or Temporal Cloud); set SHIPMATE_WORKER_VERSIONING=false "
                    "to run unversioned."
                ) from None
        if loop.time() > deadline:
            raise VersioningUnavailable(
                f"Temporal never saw build {build} poll {', '.join(sorted(queues))} "
                f"within {wait_seconds:.0f} s; is the worker connected?"
            )
        await asyncio.sleep(0.25)
