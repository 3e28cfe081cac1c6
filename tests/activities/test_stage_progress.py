"""A stage's heartbeat carries how far it got, and `shipmate status` shows it as it runs.

"Running" does not tell a slow stage from a stuck one; the tests passed so far and the
build's step do. A real scaffold gets slow tests and a slow build step added (so each
stage lasts long enough to be seen more than once), then a delivery runs with the real
test, build and push stages on real Docker (the other stages are the workflow tests'
stand-ins, and the scaffold stand-in hands over the real repository), and the engine's
pending activities and `shipmate status` are read while they run.
"""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import docker
import pytest
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities import artifacts, images
from activities.stages import DeliveryActivities
from cli.worker import PROGRESS_EVERY
from testkit.fake_stages import Script, on_every_queue
from testkit.waiting import eventually
from tests.shipmate.test_pending_work import status_lines
from tests.workflows.test_workflows import gate_open, start, until
from understanding import parse_request
from workflows import activity_contracts as contracts
from workflows.activity_contracts import implements
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.service_workflow import ServiceWorkflow
from workflows.stage_models import ScaffoldInput, ScaffoldResult

SLOW_TESTS = """

import time as _time

import pytest as _pytest


@_pytest.mark.parametrize("n", range(40))
def test_a_slow_check(n):
    _time.sleep(0.4)
"""
PASSED = re.compile(r"tests: (\d+) passed, 0 failed so far")
REAL = ("test_service", "build_service_image", "push_service_image")


@pytest.fixture()
def stages(settings, docker_ready, tmp_path):
    return DeliveryActivities(settings.model_copy(update={"state_dir": tmp_path}))


def slow_scaffold(stages: DeliveryActivities, marker: str) -> ScaffoldResult:
    """A real scaffold whose tests take about 20 s and whose runtime image has a step
    that takes 12 s (new each run: the marker keeps Docker's cache out of it)."""
    spec = parse_request("build a ledger api on sqlite").spec
    scaffold = ActivityEnvironment().run(
        stages.scaffold_service, ScaffoldInput(spec=spec, request_text="")
    )
    repo = stages.settings.services_dir / spec.name
    with open(next((repo / "tests").glob("test_*.py")), "a") as tests:  # kept in the artifact
        tests.write(SLOW_TESTS)
    dockerfile = (repo / "Dockerfile").read_text()
    runtime = "FROM ${BASE_IMAGE} AS runtime\n"
    assert runtime in dockerfile
    slow_step = f"{runtime}RUN echo {marker} && sleep 12\n"
    (repo / "Dockerfile").write_text(dockerfile.replace(runtime, slow_step, 1))
    return scaffold.model_copy(
        update={
            "artifact": artifacts.save(stages.settings, spec.name, repo),
            "fingerprint": uuid.uuid4().hex * 2,
        }
    )


def stage_worker(client, queue: str, stages: DeliveryActivities, scaffold, executor) -> Worker:
    """The real test, build and push stages, with the worker's heartbeat pace
    (PROGRESS_EVERY, as `shipmate worker` has it); the rest stand-ins."""

    @implements(contracts.scaffold_service)
    async def scaffold_service(request: ScaffoldInput) -> ScaffoldResult:
        return scaffold

    real = {name: getattr(stages, name) for name in REAL}
    script = Script(settings=stages.settings)
    stand_ins = [a for a in script.activities() if a.__name__ not in (*REAL, "scaffold_service")]
    return on_every_queue(
        client,
        task_queue=queue,
        workflows=[ServiceWorkflow, DeliveryWorkflow],
        activities=[*stand_ins, scaffold_service, *real.values()],
        activity_executor=executor,
        max_heartbeat_throttle_interval=PROGRESS_EVERY,
        default_heartbeat_throttle_interval=PROGRESS_EVERY,
    )


async def heartbeat_details(client, delivery_id: str) -> dict[str, str]:
    """Activity type -> its pending activity's heartbeat details, as the engine holds them."""
    described = await client.get_workflow_handle(delivery_id).describe()
    found = {}
    for pending in described.raw_description.pending_activities:
        payloads = list(pending.heartbeat_details.payloads)
        if payloads:
            (detail, *_) = await client.data_converter.decode(payloads)
            found[pending.activity_type.name] = detail
    return found


async def test_the_tests_passed_so_far_and_the_build_step_show_while_they_run(
    client, settings, stages, tmp_path
):
    marker = f"slow-step-{uuid.uuid4().hex[:8]}"
    scaffold = slow_scaffold(stages, marker)
    queue = f"progress-{uuid.uuid4().hex[:8]}"
    local = settings.model_copy(update={"task_queue": queue, "approvers": ["U0BOB"]})
    engine_counts: list[int] = []  # passed so far, in the test stage's heartbeat details
    status_counts: list[int] = []  # the same, as `shipmate status` prints it
    build_lines: list[str] = []

    with ThreadPoolExecutor(max_workers=4) as executor:
        async with stage_worker(client, queue, stages, scaffold, executor):
            handle, spec = await start(client, local, "build a ledger api on sqlite")

            async def both_seen_moving() -> bool:
                details = await heartbeat_details(client, handle.id)
                if found := PASSED.search(details.get("test_service", "")):
                    engine_counts.append(int(found[1]))
                for line in await status_lines(client, spec.name, handle.id):
                    if line.startswith("test: attempt 1, running on a worker, last progress: "):
                        if found := PASSED.search(line):
                            status_counts.append(int(found[1]))
                    if line.startswith("build: attempt 1, running on a worker, last progress: "):
                        build_lines.append(line)
                slow_build = [line for line in build_lines if marker in line]
                return len(set(engine_counts)) >= 2 and len(set(status_counts)) >= 2 and slow_build

            await eventually(
                both_seen_moving,
                interval=0.3,
                what="rising test counts and the build's slow step while they run",
            )
            await until(handle, gate_open("staging"))  # the real stages all got through
            await handle.terminate("seen what was needed")

    # The counts only rise, as the tests pass one after another.
    assert engine_counts == sorted(engine_counts) and engine_counts[0] < engine_counts[-1]
    assert status_counts == sorted(status_counts) and status_counts[0] < status_counts[-1]
    step = re.compile(
        rf"last progress: runtime image, step (\d+)/(\d+): RUN echo {marker} && sleep 12$"
    )
    (number, steps) = next(step.search(line).groups() for line in build_lines if marker in line)
    assert 1 < int(number) < int(steps)

    built = f"{scaffold.service}:v{scaffold.version}-{scaffold.fingerprint[:12]}"
    engine = docker.from_env()
    engine.images.remove(engine.images.get(built).id, force=True)  # its registry tag too


def test_a_build_reports_its_steps_and_a_push_its_layers(settings, docker_ready, tmp_path):
    """The details themselves: each build step once, in order; each push report counts
    the layers already in the registry, up to all of them."""
    marker = f"layers-{uuid.uuid4().hex[:8]}"
    (tmp_path / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM $BASE_IMAGE AS small\n"
        f"RUN echo {marker} > /one\nRUN echo {marker} > /two\n"
    )
    reports: list[str] = []
    image = f"progress-{marker}:v1"
    images.build_image(settings, tmp_path, image, "small", reports.append)
    assert reports == [
        "small image, step 1/4: ARG BASE_IMAGE",
        "small image, step 2/4: FROM $BASE_IMAGE AS small",
        f"small image, step 3/4: RUN echo {marker} > /one",
        f"small image, step 4/4: RUN echo {marker} > /two",
    ]

    reports.clear()
    try:
        images.push_image(settings, image, reports.append)
    finally:
        engine = docker.from_env()
        engine.images.remove(engine.images.get(image).id, force=True)
    pushed = re.compile(
        rf"pushing {re.escape(settings.registry)}/progress-{marker}:v1: "
        r"(\d+)/(\d+) layers in the registry"
    )
    counts = [tuple(int(n) for n in pushed.fullmatch(report).groups()) for report in reports]
    done = [in_registry for in_registry, _ in counts]
    assert done == sorted(done) and done[0] < done[-1]
    assert counts[-1][0] == counts[-1][1] >= 3  # the base image's layer and both RUN steps
