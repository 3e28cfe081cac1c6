"""`shipmate worker` as a process of its own, the way an operator runs one.

Each worker gets the session's Temporal, registry, installation and local-target
settings, and whatever a test overrides (its own state dir, the artifact store): the
tests that kill, stop or multiply workers start them through here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError

from shipmate import delivery_client
from workflows.models import DeliveryStatus

LONG_STAGES = ("test_service", "build_service_image")


def start_worker(settings, queue: str, log: Path | None = None, **overrides: str):
    env = {
        **os.environ,
        **settings.as_environment(
            "temporal_address",
            "registry",
            "state_dir",
            # deploys as the session's installation, on its database server and router
            "postgres_url",
            "installation",
            "router_admin_port",
            "local_ports",
            "aws_endpoint_url",
            # the worker's rules are the gates' (activities/worker_rules.py)
            "developers",
            "admins",
            "approvers",
            "approver_groups",
            "approval_policies",
            "approval_timeout_hours",
            "environments",
        ),
        "SHIPMATE_WHEELHOUSE": str(settings.wheelhouse_dir),
        "SHIPMATE_TASK_QUEUE": queue,
        "SHIPMATE_HEARTBEAT_SECONDS": "8",
        **{f"SHIPMATE_{name.upper()}": value for name, value in overrides.items()},
    }
    output = open(log, "ab") if log else subprocess.DEVNULL  # the child owns it
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "worker"],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
    )


def stop(*workers) -> None:
    for worker in workers:
        if worker and worker.poll() is None:
            worker.kill()
            worker.wait()


async def long_stage_running(handle: WorkflowHandle, on_worker: int | None = None) -> str | None:
    """The test or build stage, once it has really started (on that worker's pid, if given)."""
    try:
        description = await handle.describe()
    except RPCError:  # the service starts the delivery a moment after the request
        return None
    for pending in description.raw_description.pending_activities:
        started = pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
        mine = on_worker is None or pending.last_worker_identity.startswith(f"{on_worker}@")
        if started and mine and pending.activity_type.name in LONG_STAGES:
            return pending.activity_type.name
    return None


async def follow_approving(client, handle: WorkflowHandle) -> DeliveryStatus:
    """Follow a delivery to its end, Bob approving every gate it reaches."""

    async def approve(status, gate):
        env = gate.environment
        await delivery_client.decide(client, status.delivery_id, "U0BOB", env, approve=True)

    return await delivery_client.follow(handle, lambda status: None, approve)
