"""Two workers, two disks, one task queue: every delivery goes live, even when one dies.

The drill behind "any worker runs any stage". Each worker has its own state dir, so
neither can read what the other wrote; the scaffolded repository reaches the next
stage through the artifact store (an S3 bucket, moto here) and images through the
registry. They share what a Docker host shares: the engine and the local target's
record of routes. Six deliveries start at once; one worker is killed in the middle
of a long stage, and the other finishes all six. Then each service changes twice on
workers that never saw its earlier versions (a worker with a fresh disk, then it and
another): 18 of 18 live, every migration chain whole.
"""

from __future__ import annotations

import asyncio
import signal
import uuid

import boto3
import docker
import httpx

from shipmate import delivery_client
from testkit.waiting import eventually
from testkit.worker_processes import follow_approving, long_stage_running, start_worker, stop
from understanding import parse_change, parse_request
from workflows.models import DeliveryState

DELIVERIES = 6


async def test_six_deliveries_on_two_workers_all_go_live_when_one_is_killed(
    client, settings, docker_ready, tmp_path
):
    queue = f"pair-{uuid.uuid4().hex[:6]}"
    bucket = f"artifacts-{uuid.uuid4().hex[:8]}"
    boto3.client(
        "s3", endpoint_url=settings.aws_endpoint_url, region_name="us-east-1"
    ).create_bucket(Bucket=bucket)
    shared = {
        "artifact_store": f"s3://{bucket}/shipmate",
        "local_target_dir": str(settings.local_target_state),  # this host's, like the session's
        "heartbeat_seconds": "5",
    }
    local = settings.model_copy(update={"task_queue": queue})
    workers = [
        start_worker(
            local, queue, tmp_path / f"{name}.log", state_dir=str(tmp_path / name), **shared
        )
        for name in ("first", "second")
    ]
    try:
        spec = parse_request("build a todo api").spec
        handles = []
        for number in range(DELIVERIES):
            named = spec.model_copy(update={"name": f"pair-{number}-{uuid.uuid4().hex[:4]}"})
            ticket = await delivery_client.request_change(
                client, local, "build a todo api", named, "U0ALICE"
            )
            handles.append(client.get_workflow_handle(ticket.delivery_id))

        following = [asyncio.create_task(follow_approving(client, h)) for h in handles]

        first = str(workers[0].pid)

        async def the_first_worker_scaffolded_and_is_in_a_long_stage():
            scaffolded = [h for h in handles if (await ran_on(h)).get("scaffold_service") == first]
            running = [h for h in handles if await long_stage_running(h, workers[0].pid)]
            return scaffolded and running

        await eventually(
            the_first_worker_scaffolded_and_is_in_a_long_stage,
            timeout=600,
            interval=0.2,
            what="the first worker scaffolded one delivery and is in a long stage",
        )
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        finals = await asyncio.wait_for(asyncio.gather(*following), 900)

        # v2 on a worker with a fresh disk alone, v3 on it and another fresh one.
        stop(workers[1])
        later = [tmp_path / "third.log", tmp_path / "fourth.log"]
        workers.append(
            start_worker(local, queue, later[0], state_dir=str(tmp_path / "third"), **shared)
        )
        changed = await change_each(client, local, finals, "add a note field to todos")
        workers.append(
            start_worker(local, queue, later[1], state_dir=str(tmp_path / "fourth"), **shared)
        )
        changed_again = await change_each(
            client, local, changed, "add a Comment entity with body and todo"
        )
    finally:
        stop(*workers)

    logs = "".join(log.read_text()[-2000:] for log in [tmp_path / "second.log", *later])
    every = [*finals, *changed, *changed_again]
    # what the user would read: the error, and the log tail the card shows beneath it
    failed = {
        (f.service, f.version): (f.error, f.log_tail)
        for f in every
        if f.state != DeliveryState.succeeded
    }
    assert failed == {}, (failed, logs)
    assert (
        sorted(f.version for f in every) == [1] * DELIVERIES + [2] * DELIVERIES + [3] * DELIVERIES
    )
    for final in changed_again:
        (deployment,) = final.deployments
        assert httpx.get(f"{deployment.url}/health", timeout=10).status_code == 200
        # The v3 schema is migrated through v1 and v2: the newest field and entity answer.
        assert httpx.get(f"{deployment.url}/todos", timeout=10).status_code == 200
        assert httpx.get(f"{deployment.url}/comments", timeout=10).status_code == 200

    # What the killed worker scaffolded on its own disk was tested and built by the other.
    crossed = [
        stages
        for stages in [await ran_on(handle) for handle in handles]
        if stages["scaffold_service"] == first and stages["build_service_image"] != first
    ]
    assert crossed, "no stage ran on another worker than the one before it"

    engine = docker.from_env()
    # Its own services' test containers only: another test of the same installation may
    # be testing right now (sparse: one removed meanwhile is not looked up).
    leftover_tests = [
        container
        for service in sorted({final.service for final in every})
        for container in engine.containers.list(
            all=True,
            sparse=True,
            filters={
                "label": ["shipmate.role=tests", f"shipmate.installation={settings.installation}"],
                "name": service,
            },
        )
    ]
    assert leftover_tests == [], "a killed test stage left its container behind"
    for final in finals:
        for container in engine.containers.list(
            all=True, filters={"label": f"shipmate.service={final.service}"}
        ):
            container.remove(force=True)


async def change_each(client, settings, finals, text: str) -> list:
    """The same change asked of every service at once, each followed to its end."""
    handles = []
    for final in finals:
        spec = parse_change(final.spec, text).spec
        ticket = await delivery_client.request_change(client, settings, text, spec, "U0ALICE")
        handles.append(client.get_workflow_handle(ticket.delivery_id))
    following = [follow_approving(client, handle) for handle in handles]
    return await asyncio.wait_for(asyncio.gather(*following), 900)


async def ran_on(handle) -> dict[str, str]:
    """Activity name -> pid of the worker that ran its last (completed) attempt."""
    scheduled, ran = {}, {}
    async for event in handle.fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[event.event_id] = name
        if event.HasField("activity_task_started_event_attributes"):
            started = event.activity_task_started_event_attributes
            ran[scheduled[started.scheduled_event_id]] = started.identity.split("@")[0]
    return ran
