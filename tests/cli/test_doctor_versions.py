"""`shipmate doctor` on Worker Versioning: before any worker it says no build is current
yet; once a worker of another build has polled, it names that build beside this
machine's, which is what an operator checks mid-rollout; and it says when versioning is
off. (The check runs against the session's Temporal: a dev server bound to another
loopback address than 127.0.0.1 never answers its worker deployment calls.)"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

from cli.doctor_versions import versions_check
from cli.worker import build_workers
from shipmate import worker_versions
from testkit.fake_stages import Script


async def test_the_current_build_is_named_beside_this_machines(client, settings):
    local = settings.model_copy(update={"task_queue": f"doctor-{uuid.uuid4().hex[:6]}"})
    none_yet = versions_check(local)
    assert none_yet.ok and f"deployment {local.task_queue}: no build current yet" in none_yet.detail

    other = local.model_copy(update={"build_id": "2.0-rc1"})
    async with build_workers(client, other, stages=Script(settings=other).activities()):
        mid_rollout = versions_check(local)
        ours = worker_versions.code_build_id()
        assert mid_rollout.ok
        assert f"build 2.0-rc1 current (this machine's is {ours})" in mid_rollout.detail
        assert "build 2.0-rc1 current (this build)" in versions_check(other).detail
    off = versions_check(local.model_copy(update={"worker_versioning": False}))
    assert off.ok and off.detail == "off: every worker on the queue takes any task"


async def test_shipmate_promote_sends_the_work_to_the_builds_workers(client, settings):
    """What the Helm hook runs: with promotion off the worker leaves the work where it
    is; `shipmate promote` makes its build current, and says so in one line."""
    queue = f"promote-{uuid.uuid4().hex[:6]}"
    first = settings.model_copy(update={"task_queue": queue, "build_id": "1.0"})
    second = first.model_copy(update={"build_id": "1.1", "worker_promotion": "off"})
    async with build_workers(client, first, stages=Script(settings=first).activities()):
        async with build_workers(client, second, stages=Script(settings=second).activities()):
            assert await worker_versions.current_build(client, second) == "1.0"
            environment = {
                **os.environ,
                "SHIPMATE_TEMPORAL_ADDRESS": settings.temporal_address,
                "SHIPMATE_TASK_QUEUE": queue,
                "SHIPMATE_BUILD_ID": "1.1",
            }
            promoted = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "cli.main", "promote", "--wait", "120"],
                capture_output=True,
                text=True,
                env=environment,
                timeout=240,
            )
            assert promoted.returncode == 0, promoted.stderr
            assert promoted.stdout.strip() == f"build 1.1 of {queue} is current"
            assert await worker_versions.current_build(client, second) == "1.1"
