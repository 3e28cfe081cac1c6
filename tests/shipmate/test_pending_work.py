"""`shipmate status` says why a stage shown as running may not move: the attempt it is
on and why the last one failed, or that no worker has room for it yet."""

from __future__ import annotations

import asyncio
import uuid

from shipmate import delivery_client, status_report
from testkit.fake_stages import Script, on_every_queue
from testkit.waiting import eventually
from tests.workflows.test_workflows import gate_open, start, until
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import DeliveryState
from workflows.service_workflow import ServiceWorkflow


async def status_lines(client, service: str, delivery_id: str) -> list[str]:
    """The lines `shipmate status SERVICE` prints under one delivery in flight."""
    report = await status_report.gather(client, service, with_pending=True)
    lines = status_report.render_text(report).splitlines()
    at = next((i for i, line in enumerate(lines) if line.strip().startswith(delivery_id)), None)
    if at is None:
        return []  # not in flight
    return [line.strip() for line in lines[at + 1 :] if line.startswith("    ")]


async def test_a_stage_retrying_shows_its_attempt_and_last_failure(client, fake):
    script, settings = fake
    script.flaky["build_service_image"] = 2  # the registry, say, refused twice
    handle, spec = await start(client, settings, "build a todo api")

    async def retrying():
        lines = await status_lines(client, spec.name, handle.id)
        build = [line for line in lines if line.startswith("build: attempt 2")]
        return build or None

    (line,) = await eventually(retrying, interval=0.2, what="the build's second attempt")
    assert line.endswith("; last failure: build_service_image flaked")
    assert "tried again in" in line or "running on a worker" in line

    # It gets through on its own: a transient failure needs nobody's retry.
    await until(handle, gate_open("staging"))
    await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
    assert (await handle.result()).state == DeliveryState.succeeded
    assert await status_lines(client, spec.name, handle.id) == []  # nothing held once done


async def test_a_stage_no_worker_has_room_for_says_so(client, settings):
    queue = f"one-slot-{uuid.uuid4().hex[:8]}"
    local = settings.model_copy(update={"task_queue": queue, "approvers": ["U0BOB"]})
    script = Script(block={"scaffold_service": asyncio.Event()}, settings=local)
    worker = on_every_queue(
        client,
        task_queue=queue,
        workflows=[ServiceWorkflow, DeliveryWorkflow],
        activities=script.activities(),
        max_concurrent_activities=1,  # the one slot goes to the first scaffold
    )
    async with worker:
        first, first_spec = await start(client, local, "build a todo api")
        await eventually(lambda: script.calls["scaffold_service"] == 1, what="a scaffold running")
        second, second_spec = await start(client, local, "build a notes api")

        async def queued():
            # Its rules are asked first, on the workflows' queue, and can show for a
            # moment before a worker there takes them; the scaffold is what waits.
            lines = await status_lines(client, second_spec.name, second.id)
            return lines if any(line.startswith("scaffold:") for line in lines) else None

        assert await eventually(queued, what="the second scaffold queued") == [
            "scaffold: attempt 1, waiting for a free worker"
        ]
        assert await status_lines(client, first_spec.name, first.id) == [
            "scaffold: attempt 1, running on a worker"
        ]
        script.block["scaffold_service"].set()
        for handle in (first, second):
            await until(handle, gate_open("staging"))
            await client.get_workflow_handle(handle.id).terminate("seen what was needed")
