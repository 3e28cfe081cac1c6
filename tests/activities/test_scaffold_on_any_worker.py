"""A change scaffolded on a worker that never saw the service's earlier versions.

Each worker here has its own disk (state dir); they share only the artifact store, as
workers on separate machines do. The earlier versions reach the scaffold through the
running version's repository in the store, so every version's migration follows the
one before it wherever it was written, and a database at any earlier version upgrades.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.stages import DeliveryActivities
from tests.activities.migration_checks import alembic, migrate
from understanding import parse_change, parse_request
from workflows.spec import ServiceSpec
from workflows.stage_models import ScaffoldInput, ScaffoldResult


def scaffold(settings, spec: ServiceSpec, text: str, earlier: ScaffoldResult | None = None):
    request = ScaffoldInput(
        spec=spec,
        request_text=text,
        requester="U0ALICE",
        earlier_repository=earlier.artifact if earlier else None,
    )
    return ActivityEnvironment().run(DeliveryActivities(settings).scaffold_service, request)


@pytest.fixture()
def workers(settings, tmp_path):
    """Two workers' settings: separate disks, one shared artifact store."""
    shared = str(tmp_path / "shared-artifacts")
    return [
        settings.model_copy(
            update={"state_dir": tmp_path / name, "artifact_store": shared, "git_remote": None}
        )
        for name in ("first", "second")
    ]


def todo_api() -> ServiceSpec:
    spec = parse_request("build a todo api").spec
    return spec.model_copy(update={"name": f"todo-{uuid.uuid4().hex[:6]}"})


def current(project: Path, url: str) -> str:
    result = alembic(project, url, "current")
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.split()[0]


def test_each_version_follows_the_last_on_whichever_worker_writes_it(workers, tmp_path):
    first, second = workers
    v1 = todo_api()
    v2 = parse_change(v1, "add a note field to todos").spec
    v3 = parse_change(v2, "add a Comment entity with body and todo").spec
    assert (v2.version, v3.version) == (2, 3)

    # Each version is deployed, so its migrations run, before the next is asked for.
    url = f"sqlite:///{tmp_path / 'todo.db'}"
    one = scaffold(first, v1, "build a todo api")
    migrate(Path(one.path), url, "upgrade", "head")
    two = scaffold(second, v2, "add a note field to todos", earlier=one)  # never saw v1
    migrate(Path(two.path), url, "upgrade", "head")
    assert current(Path(two.path), url) == "v0002"
    three = scaffold(first, v3, "add a Comment entity", earlier=two)  # never saw v2
    project = Path(three.path)
    migrate(project, url, "upgrade", "head")
    assert current(project, url) == "v0003"

    # The chain is whole in the last repository: down to nothing and up again.
    migrate(project, url, "downgrade", "base")
    migrate(project, url, "upgrade", "head")
    specs = sorted(p.name for p in (project / "specs").iterdir())
    assert specs == ["v0001.json", "v0002.json", "v0003.json"]


def test_a_version_abandoned_on_one_disk_does_not_reach_the_next(workers, tmp_path):
    """v2 with a memo field fails on the first worker and is asked again with a note
    field on the second; v3 on the first worker follows the v2 that went live."""
    first, second = workers
    v1 = todo_api()
    one = scaffold(first, v1, "build a todo api")
    scaffold(first, parse_change(v1, "add a memo field to todos").spec, "memo", earlier=one)
    live_v2 = parse_change(v1, "add a note field to todos").spec
    two = scaffold(second, live_v2, "add a note field to todos", earlier=one)
    v3 = parse_change(live_v2, "add a priority int field to todos").spec
    three = scaffold(first, v3, "add a priority int field", earlier=two)

    migrations = "".join(p.read_text() for p in (Path(three.path) / "migrations").rglob("v*.py"))
    assert "note" in migrations and "memo" not in migrations
    kept = (Path(three.path) / "specs" / "v0002.json").read_text()
    assert '"note"' in kept and '"memo"' not in kept


def test_a_worker_without_the_earlier_versions_stops_instead_of_starting_a_new_chain(
    workers,
):
    """A change queued before repositories travelled falls back to the worker's disk;
    where that disk has no v1, the stage fails (and is retried, perhaps elsewhere)
    rather than writing a v2 whose migration follows nothing."""
    first, second = workers
    v1 = todo_api()
    scaffold(first, v1, "build a todo api")
    with pytest.raises(ApplicationError) as stopped:
        scaffold(second, parse_change(v1, "add a note field to todos").spec, "note")
    assert stopped.value.type == "EarlierVersionsMissing"
    assert not stopped.value.non_retryable
    assert f"v2 of {v1.name} must follow every earlier version's migrations" in str(stopped.value)
    assert "v1 cannot be found in this worker's disk" in str(stopped.value)


def test_the_teams_remote_gets_each_version_on_top_of_the_last_from_any_worker(workers, tmp_path):
    remotes = tmp_path / "remotes"
    first, second = (
        w.model_copy(update={"git_remote": f"{remotes}/{{service}}.git"}) for w in workers
    )
    v1 = todo_api()
    remote = remotes / f"{v1.name}.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)

    one = scaffold(first, v1, "build a todo api")
    v2 = parse_change(v1, "add a note field to todos").spec
    two = scaffold(second, v2, "add a note field to todos", earlier=one)
    v3 = parse_change(v2, "add a priority int field to todos").spec
    scaffold(first, v3, "add a priority int field", earlier=two)

    log = subprocess.run(
        ["git", "--git-dir", str(remote), "log", "--format=%s", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert log == [
        f"{v1.name} v3: add a priority int field",
        f"{v1.name} v2: add a note field to todos",
        f"{v1.name} v1: build a todo api",
    ]
