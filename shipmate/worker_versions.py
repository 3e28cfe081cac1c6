"""Worker Versioning: each worker says which build of Shipmate it runs, and Temporal
sends work only to the current build's workers.

In a rolling upgrade old and new code poll side by side. Without versions a history
written by new code can reach an old worker (a non-determinism failure), and an
activity the new code added can reach a worker without it (its retries burnt). With
them, every workflow and activity task goes to the current build's workers and the
others take nothing. Workflows auto-upgrade: a delivery parked at a gate under the old
build carries on under the new one at its next task once that is current, so a code
change that alters what a running workflow does still goes behind `workflow.patched`
(workflows/patches.py); the README says how a marker lives and retires.

Which build is current is a decision (`SHIPMATE_WORKER_PROMOTION`):
- `on-start` (the default: `shipmate dev`, compose): a workflows worker makes its own
  build current once Temporal has seen it poll, which suits workers that restart together;
- `first` (the Helm chart): only when no build is current yet; after a rollout (or a
  `helm rollback`) the chart's hook runs `shipmate promote`, so an old pod restarting
  mid-rollout, or a new one crash-looping, never moves the work;
- `off`: only `shipmate promote` (or `temporal worker deployment set-current-version`).
Every role of one installation runs one build, or an activity can wait on a queue no
worker of the current build polls.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import timedelta
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from temporalio.api.deployment import v1 as deployment
from temporalio.api.enums.v1 import RoutingConfigUpdateState
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
# Answers worth asking again: the first polls still on their way, a busy or restarting server.
AGAIN = (
    RPCStatusCode.NOT_FOUND,
    RPCStatusCode.FAILED_PRECONDITION,
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
)
CALL_TIMEOUT = timedelta(seconds=10)
UPDATING = RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS
log = logging.getLogger("shipmate.worker")


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
    build, _ = await _routing(client, settings)
    return build


async def _routing(client: Client, settings: Settings) -> tuple[str | None, bool]:
    """The current build, and whether every task queue already routes by it (a change
    reaches the queues' partitions a moment after it is made)."""
    described = await client.workflow_service.describe_worker_deployment(
        DescribeWorkerDeploymentRequest(
            namespace=client.namespace, deployment_name=deployment_name(settings)
        ),
        timeout=CALL_TIMEOUT,
    )
    info = described.worker_deployment_info
    build = info.routing_config.current_deployment_version.build_id or None
    return build, info.routing_config_update_state != UPDATING


async def current_or_none(client: Client, settings: Settings) -> str | None:
    """As current_build, and None too when no worker of the deployment has polled yet."""
    try:
        return await current_build(client, settings)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def _polled_queues(client: Client, settings: Settings) -> set[str]:
    described = await client.workflow_service.describe_worker_deployment_version(
        DescribeWorkerDeploymentVersionRequest(
            namespace=client.namespace,
            deployment_version=deployment.WorkerDeploymentVersion(
                deployment_name=deployment_name(settings), build_id=build_id(settings)
            ),
        ),
        timeout=CALL_TIMEOUT,
    )
    return {info.name for info in described.worker_deployment_version_info.task_queue_infos}


async def promote_on_start(client: Client, settings: Settings, queues: list[str]) -> None:
    """What a workflows worker does once it polls, by SHIPMATE_WORKER_PROMOTION."""
    if settings.worker_promotion == "off":
        return
    if settings.worker_promotion == "first":
        current = await _answered(lambda: current_or_none(client, settings), settings)
        if current is not None and current != build_id(settings):
            log.info(
                "build %s is current; build %s waits for `shipmate promote`",
                current,
                build_id(settings),
            )
            return
    await make_current(client, settings, queues)
    log.info("build %s of %s is current", build_id(settings), deployment_name(settings))


async def make_current(
    client: Client, settings: Settings, queues: list[str], wait_seconds: float = 60.0
) -> None:
    """Once Temporal has seen this build poll each of `queues` (none: any poll at all),
    route the deployment's work to it, and return once every queue routes by it.
    Raises VersioningUnavailable, saying what to do."""
    build = build_id(settings)

    async def attempt() -> bool:
        current, settled = await _routing(client, settings)
        if current == build:
            return settled  # current once every queue routes by it
        if not set(queues) <= await _polled_queues(client, settings):
            return False
        await client.workflow_service.set_worker_deployment_current_version(
            SetWorkerDeploymentCurrentVersionRequest(
                namespace=client.namespace,
                deployment_name=deployment_name(settings),
                build_id=build,
                # queues of roles other processes run join as they start
                ignore_missing_task_queues=True,
                identity=client.identity,
            ),
            timeout=CALL_TIMEOUT,
        )
        return False  # asked again: done once the queues route by it

    await _answered(attempt, settings, wait_seconds, until_true=True)


async def _answered(call, settings: Settings, wait_seconds: float = 60.0, until_true=False):
    """`call`'s answer, asked again while Temporal is not ready for it (the first polls
    on their way, a server busy or restarting) until `wait_seconds` have passed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        try:
            answer = await call()
            if answer or not until_true:
                return answer
        except RPCError as err:
            if err.status not in AGAIN or loop.time() > deadline:
                raise VersioningUnavailable(_advice(err, settings)) from None
        if loop.time() > deadline:
            raise VersioningUnavailable(
                f"Temporal never saw build {build_id(settings)} of {deployment_name(settings)} "
                f"poll its queues within {wait_seconds:.0f} s; is the worker connected?"
            )
        await asyncio.sleep(0.25)


def _advice(err: RPCError, settings: Settings) -> str:
    name, build = deployment_name(settings), build_id(settings)
    said = f"Temporal refused to route {name} to build {build} ({err.message})"
    if err.status == RPCStatusCode.UNIMPLEMENTED:
        return (
            f"{said}: Worker Versioning needs Temporal server 1.28 or later, or Temporal "
            f"Cloud; or set SHIPMATE_WORKER_VERSIONING=false. {UNVERSIONED}"
        )
    if err.status == RPCStatusCode.PERMISSION_DENIED:
        return f"{said}: allow this identity to manage worker deployments on the namespace."
    return said


UNVERSIONED = (
    "If a build was ever current, unversioned workers get nothing until "
    "`temporal worker deployment set-current-version --deployment-name <name> --unversioned`."
)
