"""`shipmate deliver`, `status`, `reject` and `cancel` from a terminal, against Temporal.

Stages are scripted stand-ins (the real ones are tested with Docker elsewhere); what is
tested here is what a person sees in the terminal and the exit codes.
"""

from __future__ import annotations

import asyncio
import os
import random
import string
import sys

from tests.waiting import eventually

SHIPMATE = [sys.executable, "-m", "shipmate.cli"]


def letters() -> str:
    """A name part that pluralises plainly (no s, x, y or h at the end)."""
    return "".join(random.choices(string.ascii_lowercase, k=6)) + "n"


async def shipmate(settings, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "SHIPMATE_TEMPORAL_ADDRESS": settings.temporal_address,
        "SHIPMATE_TASK_QUEUE": settings.task_queue,
        "SHIPMATE_APPROVERS": '["U0BOB", "U0DAVE"]',
        "SHIPMATE_HEARTBEAT_SECONDS": "5",  # cancellation reaches a stage at its next heartbeat
    }
    process = await asyncio.create_subprocess_exec(
        *SHIPMATE, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


async def test_deliver_shows_each_stage_and_ends_with_the_url(fake):
    script, settings = fake
    name = f"kanban{letters()}"
    code, out, err = await shipmate(
        settings, "deliver", f"build a {name} api", "--approve-as", "U0BOB", "--as", "U0ALICE"
    )
    assert code == 0, err
    assert f"delivery delivery/{name}-api/1 started" in out
    for stage in ("plan", "scaffold", "test", "build", "push", "approve staging", "deploy staging"):
        assert f"✓ {stage}" in out
    assert "approved staging as U0BOB: 1 of 1 approvals (approved)" in out
    assert out.strip().endswith(f"staging: http://{name}-api.staging.local")

    code, out, err = await shipmate(settings, "status", f"{name}-api")
    assert code == 0, err
    assert f"staging    v1  http://{name}-api.staging.local" in out
    assert "approved by U0BOB" in out


async def test_a_rejected_deploy_exits_1_with_the_reason(fake):
    script, settings = fake
    name = f"ledger{letters()}"
    deliver = asyncio.create_task(
        shipmate(settings, "deliver", f"build a {name} api, deploy to prod", "--as", "U0ALICE")
    )
    delivery_id = f"delivery/{name}-api/1"

    async def carols_reject_refused():
        code, out, err = await shipmate(
            settings, "reject", delivery_id, "--as", "U0CAROL", "--reason", "no"
        )
        return (code, err) if "not allowed" in err else None

    code, err = await eventually(carols_reject_refused, interval=0.3, what="an open prod gate")
    assert code == 1 and "refused: <@U0CAROL> is not allowed to approve prod deploys" in err
    code, out, err = await shipmate(
        settings, "reject", delivery_id, "--as", "U0BOB", "--reason", "freeze week"
    )
    assert code == 0, err
    assert "prod: 0 of 1 approvals (rejected)" in out
    code, out, err = await deliver
    assert code == 1
    assert "delivery rejected: prod deploy rejected by <@U0BOB>: freeze week" in err


async def test_cancel_from_the_command_line(fake):
    script, settings = fake
    script.block["test_service"] = asyncio.Event()
    name = f"quota{letters()}"
    deliver = asyncio.create_task(shipmate(settings, "deliver", f"build a {name} api"))
    delivery_id = f"delivery/{name}-api/1"
    await eventually(lambda: "test_service" in script.calls, what="the test stage running")
    code, out, err = await shipmate(settings, "cancel", delivery_id, "--as", "U0ALICE")
    assert code == 0, err
    assert f"{delivery_id}: cancel accepted (was running)" in out
    code, out, err = await deliver
    assert code == 1
    assert "delivery cancelled: cancelled by U0ALICE" in err


async def test_a_change_request_shows_the_diff_and_ships_the_next_version(fake):
    script, settings = fake
    name = f"shop{letters()}"
    code, out, err = await shipmate(
        settings,
        "deliver",
        f"build a {name} api: orders have total (decimal)",
        "--approve-as",
        "U0BOB",
    )
    assert code == 0, err
    code, out, err = await shipmate(
        settings, "plan", "make total unique", "--service", f"{name}-api"
    )
    assert code == 0, err
    assert "change: ~ Order.total: decimal → decimal, unique" in out
    code, out, err = await shipmate(
        settings,
        "deliver",
        "add a status field to orders",
        "--service",
        f"{name}-api",
        "--approve-as",
        "U0BOB",
    )
    assert code == 0, err
    assert "change: + Order.status (str)" in out
    assert f"delivery delivery/{name}-api/2 started" in out
    code, out, err = await shipmate(settings, "status", f"{name}-api")
    assert "(spec v2, 2 deliveries)" in out
    assert "staging    v2" in out


async def test_a_change_to_an_unknown_service_is_refused(fake):
    script, settings = fake
    code, out, err = await shipmate(settings, "plan", "add a field x to y", "--service", "nope-api")
    assert code == 1
    assert "there is no service nope-api yet" in err
