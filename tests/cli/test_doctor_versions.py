"""`shipmate doctor` on Worker Versioning: before any worker it says no build is current
yet; once a worker of another build has polled, it names that build beside this
machine's, which is what an operator checks mid-rollout; and it says when versioning is
off. (The check runs against the session's Temporal: a dev server bound to another
loopback address than 127.0.0.1 never answers its worker deployment calls.)"""

from __future__ import annotations

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
