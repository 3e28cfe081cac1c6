"""The test stage on real Docker: each change's own sources are tested, in a container
of the shared test-deps image, and a failing test fails the stage with its name.

The test-deps image is built once per set of requirements, so two versions (or two
services) share it: what must differ between their runs is the code under test.
"""

from __future__ import annotations

import docker
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import artifacts
from activities.stages import DeliveryActivities
from understanding import parse_request
from workflows.stage_models import ScaffoldInput

BROKEN = """

def test_the_total_is_never_negative():
    assert -1 >= 0, "a total below zero"
"""


@pytest.fixture()
def stages(settings, docker_ready, tmp_path):
    return DeliveryActivities(settings.model_copy(update={"state_dir": tmp_path}))


def test_a_failing_generated_test_fails_the_stage_and_leaves_no_container(stages, settings):
    run = ActivityEnvironment().run
    spec = parse_request("build a ledger api on sqlite").spec
    scaffold = run(stages.scaffold_service, ScaffoldInput(spec=spec, request_text=""))
    assert run(stages.test_service, scaffold).passed > 5

    # The same service with one more test, which fails: same test-deps image, new sources.
    repo = stages.settings.services_dir / spec.name
    with open(next((repo / "tests").glob("test_*.py")), "a") as tests:
        tests.write(BROKEN)
    broken = scaffold.model_copy(
        update={
            "artifact": artifacts.save(stages.settings, spec.name, repo),
            "fingerprint": "b" * 64,
        }
    )
    with pytest.raises(ApplicationError) as failed:
        run(stages.test_service, broken)
    assert failed.value.type == "TestsFailed"
    assert "1 failed" in str(failed.value)
    assert "test_the_total_is_never_negative" in failed.value.details[0]

    left = docker.from_env().containers.list(
        all=True, filters={"label": f"shipmate.installation={settings.installation}"}
    )
    assert not [c.name for c in left if c.labels.get("shipmate.role") == "tests"]


def test_a_repository_scaffolded_before_test_deps_is_tested_through_its_test_image(stages):
    """A delivery scaffolded by an older Shipmate (its Dockerfile has no `test-deps`
    stage) may reach its test stage, or be retried, after an upgrade."""
    run = ActivityEnvironment().run
    spec = parse_request("build a tally api on sqlite").spec
    scaffold = run(stages.scaffold_service, ScaffoldInput(spec=spec, request_text=""))
    repo = stages.settings.services_dir / spec.name
    dockerfile = (repo / "Dockerfile").read_text()
    older = dockerfile.replace("FROM deps AS test-deps\n", "FROM deps AS test\n", 1)
    older = older.replace(
        "ENV PATH=/opt/venv/bin:$PATH\nCMD", "COPY . .\nENV PATH=/opt/venv/bin:$PATH\nCMD", 1
    )
    older = older.replace("\nFROM test-deps AS test\nCOPY . .\n", "\n")
    assert "AS test-deps" not in older and older.count("COPY . .") == 1
    (repo / "Dockerfile").write_text(older)
    before = scaffold.model_copy(
        update={
            "artifact": artifacts.save(stages.settings, spec.name, repo),
            "fingerprint": "c" * 64,
        }
    )
    report = run(stages.test_service, before)
    assert report.passed > 5 and report.failed == 0
