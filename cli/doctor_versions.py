"""The doctor's word on Worker Versioning: whether the Temporal service routes work by
build, and which build it routes this installation's work to.

A server without the deployment API would leave versioned workers idle, so the line
says what to do before a worker is started; with the API, it names the current build
beside the one this machine would run, which is what an operator checks mid-rollout.
"""

from __future__ import annotations

import asyncio

from temporalio.service import RPCError

from cli.checks import Check, run_sync
from shipmate import worker_versions
from shipmate.settings import Settings
from shipmate.temporal import TemporalUnavailable, connect

OFF = "set SHIPMATE_WORKER_VERSIONING=false to run unversioned"


def versions_check(settings: Settings, timeout: float = 5) -> Check:
    name, ours = worker_versions.deployment_name(settings), worker_versions.build_id(settings)
    if not settings.worker_versioning:
        return Check("versions", True, "off: every worker on the queue takes any task")
    try:
        current = run_sync(asyncio.wait_for(_current(settings), timeout))
    except TemporalUnavailable as exc:
        return Check("versions", False, f"could not ask: {exc}", "fix the namespace line first")
    except TimeoutError:
        detail = f"Temporal did not say which build is current within {timeout:.0f} s"
        fix = f"check its worker deployment API (temporal worker deployment list); or {OFF}"
        return Check("versions", False, detail, fix, essential=False)
    except RPCError as exc:
        detail = f"Temporal cannot route by build ({exc.message})"
        return Check("versions", False, detail, f"Temporal server 1.28+ or Cloud; or {OFF}")
    if current is None:
        detail = f"deployment {name}: no build current yet; a worker makes {ours} current"
        return Check("versions", True, detail)
    same = "this build" if current == ours else f"this machine's is {ours}"
    return Check("versions", True, f"deployment {name}: build {current} current ({same})")


async def _current(settings: Settings) -> str | None:
    return await worker_versions.current_or_none(await connect(settings), settings)
