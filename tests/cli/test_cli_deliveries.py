"""`shipmate deliver`, `status`, `approve`, `reject` and `cancel` from a terminal, against Temporal.

Under a running `shipmate dev` (the `demo` fixture) the terminal may act as anyone;
outside it only as SHIPMATE_OPERATOR, so prod still needs a second person.

Stages are scripted stand-ins (the real ones are tested with Docker elsewhere); what is
tested here is what a person sees in the terminal and the exit codes.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import string
import sys

import pytest

from cli import identity
from shipmate import status_report
from testkit.waiting import eventually
from tests.workflows.test_rollback_data_loss import two_versions
from tests.workflows.test_undo_deliveries import ROLL_BACK, undo
from tests.workflows.test_workflows import gate_open, until
from workflows.spec import FieldSpec

SHIPMATE = [sys.executable, "-m", "cli.main"]


def letters() -> str:
    """A name part that pluralises plainly (no s, x, y or h at the end)."""
    return "".join(random.choices(string.ascii_lowercase, k=6)) + "n"


@pytest.fixture()
def demo(fake, tmp_path):
    """The fake stages, with `shipmate dev` running: --as and --approve-as may name anyone."""
    script, settings = fake
    settings = settings.model_copy(update={"state_dir": tmp_path})
    with identity.running_dev_stack(settings):
        yield script, settings


async def in_flight(client, service: str) -> str:
    """The id of the service's delivery in flight, once there is one."""

    async def found():
        report = await status_report.gather(client, service)
        return report.in_flight[0].delivery_id if report.in_flight else None

    return await eventually(found, interval=0.3, what=f"a delivery of {service}")


async def shipmate(settings, *args: str, **extra_env: str) -> tuple[int, str, str]:
    env = {
        **{k: v for k, v in os.environ.items() if k != "SHIPMATE_OPERATOR"},
        "SHIPMATE_STATE_DIR": str(settings.state_dir),
        "SHIPMATE_TEMPORAL_ADDRESS": settings.temporal_address,
        "SHIPMATE_TASK_QUEUE": settings.task_queue,
        "SHIPMATE_APPROVERS": '["U0BOB", "U0DAVE"]',
        "SHIPMATE_DEVELOPERS": '["U0ALICE", "U0BOB"]',  # the default is nobody
        "SHIPMATE_HEARTBEAT_SECONDS": "5",  # cancellation reaches a stage at its next heartbeat
        **extra_env,
    }
    process = await asyncio.create_subprocess_exec(
        *SHIPMATE, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


async def test_deliver_shows_each_stage_and_ends_with_the_url(demo):
    script, settings = demo
    name = f"kanban{letters()}"
    code, out, err = await shipmate(
        settings, "deliver", f"build a {name} api", "--approve-as", "U0BOB", "--as", "U0ALICE"
    )
    assert code == 0, err
    assert re.search(rf"delivery delivery/{name}-api/1-\w+ started", out)
    for stage in ("plan", "scaffold", "test", "build", "push", "approve staging", "deploy staging"):
        assert f"✓ {stage}" in out
    assert "approved staging as U0BOB: 1 of 1 approvals (approved)" in out
    assert out.strip().endswith(f"staging: http://{name}-api.staging.local")

    code, out, err = await shipmate(settings, "status", f"{name}-api")
    assert code == 0, err
    assert f"staging    v1  http://{name}-api.staging.local" in out
    assert "approved by U0BOB" in out


async def test_a_rejected_deploy_exits_1_with_the_reason(demo, client):
    script, settings = demo
    name = f"ledger{letters()}"
    deliver = asyncio.create_task(
        shipmate(settings, "deliver", f"build a {name} api, deploy to prod", "--as", "U0ALICE")
    )
    delivery_id = await in_flight(client, f"{name}-api")

    async def carols_reject_refused():
        code, out, err = await shipmate(
            settings, "reject", delivery_id, "--as", "U0CAROL", "--reason", "no"
        )
        return (code, err) if "not allowed" in err else None

    code, err = await eventually(carols_reject_refused, interval=0.3, what="an open prod gate")
    assert code == 1 and "refused: <@U0CAROL> is not allowed to reject prod deploys" in err
    code, out, err = await shipmate(
        settings, "reject", delivery_id, "--as", "U0BOB", "--reason", "freeze week"
    )
    assert code == 0, err
    assert "prod: 0 of 1 approvals (rejected)" in out
    code, out, err = await deliver
    assert code == 1
    assert "delivery rejected: prod deploy rejected by <@U0BOB>: freeze week" in err


async def test_cancel_from_the_command_line(demo, client):
    script, settings = demo
    script.block["test_service"] = asyncio.Event()
    name = f"quota{letters()}"
    deliver = asyncio.create_task(shipmate(settings, "deliver", f"build a {name} api"))
    delivery_id = await in_flight(client, f"{name}-api")
    await eventually(lambda: "test_service" in script.calls, what="the test stage running")
    code, out, err = await shipmate(settings, "cancel", delivery_id, "--as", "U0ALICE")
    assert code == 0, err
    assert f"{delivery_id}: cancel accepted (was running)" in out
    code, out, err = await deliver
    assert code == 1
    assert "delivery cancelled: cancelled by <@U0ALICE>" in err


async def test_a_change_request_shows_the_diff_and_ships_the_next_version(demo):
    script, settings = demo
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
    assert re.search(rf"delivery delivery/{name}-api/2-\w+ started", out)
    code, out, err = await shipmate(settings, "status", f"{name}-api")
    assert "(spec v2, 2 deliveries)" in out
    assert "staging    v2" in out

    # The same words without --service would replace it: refused, and nothing queued.
    again = f"build a {name} api: invoices have total"
    code, out, err = await shipmate(settings, "deliver", again, "--approve-as", "U0BOB")
    assert code == 1
    assert f"{name}-api already exists (v2: Order)" in err
    assert f"Ask for a change of {name}-api, or give the new service another name" in err
    code, out, err = await shipmate(settings, "status", f"{name}-api")
    assert "(spec v2, 2 deliveries)" in out


async def test_a_change_to_an_unknown_service_is_refused(demo):
    script, settings = demo
    code, out, err = await shipmate(settings, "plan", "add a field x to y", "--service", "nope-api")
    assert code == 1
    assert "there is no service nope-api yet" in err


async def test_outside_dev_the_command_line_acts_only_as_its_operator(fake):
    script, settings = fake
    name = f"vault{letters()}"
    code, out, err = await shipmate(settings, "deliver", f"build a {name} api")
    assert code == 1
    assert "SHIPMATE_OPERATOR must be set to your Slack user id" in err
    code, out, err = await shipmate(
        settings,
        "deliver",
        f"build a {name} api",
        "--approve-as",
        "U0BOB",
        SHIPMATE_OPERATOR="U0ALICE",
    )
    assert code == 1
    assert "--approve-as U0BOB: outside `shipmate dev` the command line acts only as " in err
    assert "SHIPMATE_OPERATOR (U0ALICE)" in err and "Traceback" not in err
    code, out, err = await shipmate(
        settings, "approve", "delivery/x/1-abcdef", "--as", "U0BOB", SHIPMATE_OPERATOR="U0ALICE"
    )
    assert code == 1 and "--as U0BOB: outside `shipmate dev`" in err


async def test_a_prod_deploy_from_the_command_line_still_needs_a_second_person(fake, client):
    script, settings = fake
    name = f"forge{letters()}"
    code, out, err = await shipmate(
        settings,
        "deliver",
        f"build a {name} api, deploy to staging then prod",
        "--approve-as",
        "U0BOB",
        SHIPMATE_OPERATOR="U0BOB",
    )
    assert code == 1
    assert "approved staging as U0BOB" in out  # their own staging deploy, as the policy allows
    assert "refused: you requested this change, so someone else must approve prod" in err
    delivery_id = await in_flight(client, f"{name}-api")
    code, out, err = await shipmate(
        settings, "approve", delivery_id, "--env", "prod", SHIPMATE_OPERATOR="U0DAVE"
    )
    assert code == 0, err
    assert "prod: 1 of 1 approvals (approved)" in out


async def test_a_roll_back_that_loses_data_is_approved_only_with_accept_data_loss(fake, client):
    script, settings = fake
    spec = await two_versions(client, settings, [FieldSpec(name="title")])
    ticket = await undo(client, settings, ROLL_BACK, spec.name)
    handle = client.get_workflow_handle(ticket.delivery_id)
    await until(handle, gate_open("staging"))

    code, out, err = await shipmate(
        settings, "approve", ticket.delivery_id, SHIPMATE_OPERATOR="U0BOB"
    )
    assert code == 1 and "Traceback" not in err
    assert "loses data: v2 dropped notes.body: its values cannot come back" in err
    code, out, err = await shipmate(
        settings, "approve", ticket.delivery_id, "--accept-data-loss", SHIPMATE_OPERATOR="U0BOB"
    )
    assert code == 0, err
    assert "staging: 1 of 1 approvals (approved)" in out


async def test_retry_rollback_and_teardown_from_a_terminal(fake, client):
    """The undo and retry commands ask the workflows what the buttons ask, and say the
    delivery they started; a refusal is one line and exit code 1."""
    script, settings = fake
    spec = await two_versions(client, settings, [FieldSpec(name="title"), FieldSpec(name="body")])
    as_alice = {"SHIPMATE_OPERATOR": "U0ALICE"}

    code, out, err = await shipmate(settings, "rollback", spec.name, "staging", **as_alice)
    assert code == 0, err
    rollback = re.search(r"delivery/\S+", out).group(0)
    assert out.startswith(f"roll back {spec.name} in staging: {rollback}")
    await until(client.get_workflow_handle(rollback), gate_open("staging"))
    code, out, err = await shipmate(settings, "approve", rollback, SHIPMATE_OPERATOR="U0BOB")
    assert code == 0, err
    await until(client.get_workflow_handle(rollback), lambda s: s.state == "succeeded")
    assert script.deployed[-1].version == 1

    code, out, err = await shipmate(settings, "rollback", spec.name, "staging", **as_alice)
    assert code == 1 and "there is no earlier version to roll back to" in err
    assert "Traceback" not in err

    script.fail["tear_down_service"] = 1
    code, out, err = await shipmate(settings, "teardown", spec.name, "staging", **as_alice)
    assert code == 0, err
    teardown = re.search(r"delivery/\S+", out).group(0)
    handle = client.get_workflow_handle(teardown)
    await until(handle, gate_open("staging"))
    await shipmate(settings, "approve", teardown, SHIPMATE_OPERATOR="U0BOB")
    await until(handle, lambda s: s.state == "failed")
    code, out, err = await shipmate(settings, "retry", teardown, SHIPMATE_OPERATOR="U0CAROL")
    assert code == 1 and "may retry this delivery" in err
    code, out, err = await shipmate(settings, "retry", teardown, **as_alice)
    assert (code, out.strip()) == (0, f"{teardown}: retry accepted (was failed)")
    final = await until(handle, lambda s: s.state == "succeeded")
    assert final.torn_down == ["staging"] and script.torn_down == [(spec.name, "staging")]


async def test_target_none_builds_and_pushes_and_deploys_nowhere(demo):
    script, settings = demo
    name = f"atlas{letters()}"
    code, out, err = await shipmate(
        settings, "deliver", f"build a {name} api", "--target", "none", "--as", "U0ALICE"
    )
    assert code == 0, err
    for stage in ("plan", "scaffold", "test", "build", "push"):
        assert f"✓ {stage}" in out
    assert "approve staging" not in out and "✓ deploy" not in out
    assert out.strip().endswith(f"{name}-api:v1 (no deploy asked for)")
    assert [d for d in script.deployed if d.service == f"{name}-api"] == []
