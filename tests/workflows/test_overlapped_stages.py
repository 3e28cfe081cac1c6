"""The tests and the image build run side by side, on the real Temporal dev server.

What a person relies on: the image is built and pushed while the tests run, nothing
deploys before the tests pass, a failed stage is retried alone (the one beside it is
kept), one retry click re-runs every stage that failed, and a delivery that ends stops
whatever still runs beside the stage that ended it.
"""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowFailureError

from shipmate import delivery_client
from testkit.waiting import eventually
from tests.workflows.test_workflows import gate_open, start, until
from workflows.models import Decision, DeliveryState, StageState


def states(status) -> dict[str, StageState]:
    return {stage.name: stage.state for stage in status.stages}


async def test_the_image_is_built_and_pushed_while_the_tests_run(client, fake):
    script, settings = fake
    script.block["test_service"] = asyncio.Event()
    handle, _ = await start(client, settings, "build a todo api")
    pushed = await until(handle, lambda s: states(s)["push"] == StageState.succeeded)
    assert states(pushed)["test"] == StageState.running
    assert pushed.state == DeliveryState.running
    assert pushed.gates[0].state != "open"  # nothing is offered before the tests pass
    assert script.deployed == []
    script.block["test_service"].set()
    at_gate = await until(handle, gate_open("staging"))
    assert states(at_gate)["test"] == StageState.succeeded
    assert at_gate.test_summary.startswith("4 passed, 0 failed")
    await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
    assert (await handle.result()).state == DeliveryState.succeeded
    assert [script.calls[n] for n in ("test_service", "build_service_image")] == [1, 1]


async def test_a_failed_test_is_retried_alone_and_the_image_beside_it_is_kept(client, fake):
    script, settings = fake
    script.fail["test_service"] = 1
    handle, _ = await start(client, settings, "build a todo api")
    failed = await until(
        handle,
        lambda s: s.state == DeliveryState.failed and states(s)["push"] == StageState.succeeded,
    )
    assert failed.error == "test failed: test_service broke"
    assert failed.current_stage.name == "test"
    assert failed.retry_possible
    await delivery_client.retry(client, handle.id, "U0ALICE")
    await until(handle, gate_open("staging"))
    await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
    final = await handle.result()
    assert final.state == DeliveryState.succeeded
    assert script.calls["test_service"] == 2
    assert script.calls["build_service_image"] == script.calls["push_service_image"] == 1


async def test_one_retry_click_re_runs_both_stages_that_failed_side_by_side(client, fake):
    script, settings = fake
    script.fail["test_service"] = script.fail["build_service_image"] = 1
    handle, _ = await start(client, settings, "build a todo api")
    both = await until(
        handle,
        lambda s: states(s)["test"] == states(s)["build"] == StageState.failed,
    )
    assert both.state == DeliveryState.failed and both.retry_possible
    await delivery_client.retry(client, handle.id, "U0ALICE")
    with pytest.raises(delivery_client.DecisionRefused, match="only a failed delivery"):
        await delivery_client.retry(client, handle.id, "U0CAROL")  # the first click covers both
    at_gate = await until(handle, gate_open("staging"))
    assert states(at_gate)["test"] == states(at_gate)["push"] == StageState.succeeded
    assert at_gate.error is None
    await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
    final = await handle.result()
    assert [script.calls[n] for n in ("test_service", "build_service_image")] == [2, 2]
    retried = [a for a in final.audit if a.decision == Decision.retried]
    assert [a.user for a in retried] == ["U0ALICE"]


async def test_a_second_failure_while_the_first_waits_is_retried_by_the_same_click(client, fake):
    script, settings = fake
    script.fail["test_service"] = script.fail["push_service_image"] = 1
    script.block["build_service_image"] = asyncio.Event()
    handle, _ = await start(client, settings, "build a todo api")
    await until(handle, lambda s: s.state == DeliveryState.failed)
    script.block["build_service_image"].set()  # the push fails while the test waits
    both = await until(handle, lambda s: states(s)["push"] == StageState.failed)
    assert states(both)["test"] == StageState.failed
    assert both.error == "push failed: push_service_image broke"
    await delivery_client.retry(client, handle.id, "U0ALICE")
    await until(handle, gate_open("staging"))
    assert [script.calls[n] for n in ("test_service", "push_service_image")] == [2, 2]
    assert script.calls["build_service_image"] == 1
    await delivery_client.cancel(client, handle.id, "U0ALICE")
    await handle.result()


async def test_tests_that_fail_for_good_stop_the_build_beside_them(client, fake):
    script, settings = fake
    settings = settings.model_copy(update={"retry_window_hours": 2 / 3600})
    script.fail["test_service"] = 1
    script.block["build_service_image"] = asyncio.Event()
    handle, _ = await start(client, settings, "build a todo api")
    await eventually(lambda: script.calls["build_service_image"], what="the build to start")
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    final = await delivery_client.delivery_status(handle)
    assert final.state == DeliveryState.failed
    assert final.error == "test failed: test_service broke"
    assert states(final)["build"] == StageState.cancelled
    assert script.cancelled == ["build_service_image"]
    assert script.calls["push_service_image"] == 0


async def test_cancel_stops_every_stage_at_work(client, fake):
    script, settings = fake
    script.block["test_service"] = asyncio.Event()
    script.block["build_service_image"] = asyncio.Event()
    handle, _ = await start(client, settings, "build a todo api")
    await eventually(
        lambda: script.calls["test_service"] and script.calls["build_service_image"],
        what="the test and build stages to start",
    )
    await delivery_client.cancel(client, handle.id, "U0BOB", "wrong database")
    final = await handle.result()
    assert final.state == DeliveryState.cancelled
    assert final.error == "cancelled by <@U0BOB>"
    assert states(final)["test"] == states(final)["build"] == StageState.cancelled
    assert sorted(script.cancelled) == ["build_service_image", "test_service"]
    assert script.calls["push_service_image"] == 0
