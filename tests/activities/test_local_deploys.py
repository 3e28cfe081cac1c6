"""Deploys a team can live on, locally: real Docker, real PostgreSQL and MariaDB.

A service keeps its rows through later versions, answers on one URL throughout, is
rolled back when a version never becomes ready and on request, and tears down without
leaving anything of its own behind, or touching another installation's things.
"""

from __future__ import annotations

import json
import uuid

import docker
import httpx
import psycopg
import pytest
from temporalio.testing import ActivityEnvironment

from activities.deploy_targets import DeployFailed, local_downgrade
from activities.deploy_targets.local import LocalDocker
from activities.deploy_targets.naming import database_identifier, secrets_file
from activities.stages import DeliveryActivities
from testkit.clients import KeepAlive, Poller
from testkit.waiting import eventually_sync
from workflows.spec import Database, EntitySpec, FieldSpec, ServiceSpec
from workflows.stage_models import DeployInput, ScaffoldInput, TeardownInput

LOCAL = LocalDocker()


def notes_spec(version: int) -> ServiceSpec:
    fields = [FieldSpec(name="title", required=True)]
    if version > 1:
        fields.append(FieldSpec(name="body", type="text", required=False))
    return ServiceSpec(
        name="notes-api", entities=[EntitySpec(name="Note", fields=fields)], version=version
    )


@pytest.fixture(scope="module")
def images(settings, docker_ready, tmp_path_factory):
    """v1 and v2 (which adds a column) of one service, and a v3 that never starts."""
    stages = DeliveryActivities(
        settings.model_copy(update={"state_dir": tmp_path_factory.mktemp("notes")})
    )
    run = ActivityEnvironment().run  # the stages heartbeat, as they do under a worker
    built = {}
    for version in (1, 2):
        asked = ScaffoldInput(spec=notes_spec(version), request_text="")
        scaffold = run(stages.scaffold_service, asked)
        built[version] = run(stages.build_service_image, scaffold).image
    engine = docker.from_env()
    broken = "notes-api:broken"
    engine.images.build(
        fileobj=_dockerfile(
            f'FROM {built[2]}\nCMD ["sh", "-c", "echo \'migration exploded\' >&2; exit 3"]\n'
        ),
        tag=broken,
        rm=True,
    )
    built[3] = broken
    built["slow"] = "notes-api:slow-start"  # v1 that takes a while before it migrates
    engine.images.build(
        fileobj=_dockerfile(
            f'FROM {built[1]}\nCMD ["sh", "-c", "sleep 4 && alembic upgrade head && '
            f'exec uvicorn app.main:app --host $HOST --port $PORT"]\n'
        ),
        tag=built["slow"],
        rm=True,
    )
    built["2b"] = "notes-api:v2b"  # v2 again, as a different image
    engine.images.build(
        fileobj=_dockerfile(f"FROM {built[2]}\nLABEL rebuilt=yes\n"), tag=built["2b"], rm=True
    )
    return built


def _dockerfile(text: str):
    import io

    return io.BytesIO(text.encode())


def deploy(settings, service, image, version, database=Database.postgresql, **extra):
    request = DeployInput(
        service=service,
        environment="staging",
        image=image,
        database=database,
        version=version,
        **extra,
    )
    seen: list[str] = []
    return LOCAL.deploy(settings, request, seen.append)


def tear_down(settings, service, database=Database.postgresql):
    return LOCAL.tear_down(
        settings,
        TeardownInput(service=service, environment="staging", database=database),
        heartbeat=print,
    )


def name() -> str:
    return f"notes-{uuid.uuid4().hex[:5]}"


@pytest.mark.parametrize("database", [Database.postgresql, Database.mysql, Database.sqlite])
def test_rows_survive_a_new_version_on_the_same_url_with_no_failed_request(
    settings, images, database
):
    service = name()
    try:
        first = deploy(settings, service, images[1], 1, database)
        LOCAL.verify(settings, first, lambda detail: None)
        created = httpx.post(f"{first.url}/notes", json={"title": "keep me"})
        assert created.status_code == 201, created.text

        with Poller(first.url) as poller:
            second = deploy(settings, service, images[2], 2, database)
        assert poller.requests > 5 and poller.failures == []

        assert second.url == first.url
        [note] = httpx.get(f"{second.url}/notes").json()
        assert note["title"] == "keep me" and note["body"] is None  # v2's column, v1's row
        assert _containers(settings, service) == [second.container]
    finally:
        tear_down(settings, service, database)


def test_a_client_is_unharmed_by_switches_either_way_and_by_other_services_deploys(
    settings, images
):
    service, neighbour = name(), name()
    try:
        first = deploy(settings, service, images[1], 1)
        deploy(settings, neighbour, images[1], 1)  # its route exists before anyone polls
        with Poller(first.url, writes=True) as poller:
            deploy(settings, service, images[2], 2)  # into the second slot
            deploy(settings, neighbour, images[2], 2)
            with pytest.raises(DeployFailed, match="rolled back"):
                deploy(settings, service, images[3], 3)  # tries the first slot, never ready
            again = deploy(settings, service, images["2b"], 2)  # the first slot, for real
        assert poller.requests > 20 and poller.failures == []
        assert again.url == first.url
        assert _containers(settings, service) == [again.container]
    finally:
        tear_down(settings, service)
        tear_down(settings, neighbour)


def test_only_a_new_or_torn_down_environment_reloads_the_router(settings, images):
    """A reload drops idle keep-alive connections, so only an address appearing or going
    may cause one; a new version behind an address changes no config."""
    service, neighbour = name(), name()
    try:
        first = deploy(settings, service, images[1], 1)
        with KeepAlive(first.url) as idle:
            deploy(settings, service, images[2], 2)
            assert idle.answers(), "a new version reloaded the router"
            deploy(settings, neighbour, images[1], 1)
            assert not idle.answers(), "a new environment's address did not reload the router"
        with KeepAlive(first.url) as idle:
            tear_down(settings, neighbour)
            assert not idle.answers(), "a torn-down address did not reload the router"
    finally:
        tear_down(settings, service)
        tear_down(settings, neighbour)


def test_postgres_database_and_role_are_the_services_own(settings, images):
    service = name()
    try:
        deploy(settings, service, images[1], 1)
        expected = database_identifier(settings, service, "staging")
        with psycopg.connect(settings.postgres_url) as conn:
            owner = conn.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (expected,)
            ).fetchone()
        assert owner == (expected,)
        assert settings.installation in expected
        # the README's image: a non-root user, and a HEALTHCHECK Docker itself runs
        image = docker.from_env().images.get(images[1]).attrs["Config"]
        assert image["User"] == "app"
        assert image["Healthcheck"]["Test"][0] == "CMD-SHELL" and "/health" in str(image)
        (running,) = _containers(settings, service)
        container = docker.from_env().containers.get(running)
        assert container.exec_run("id -u").output.decode().strip() == "10001"
        assert container.labels["managed-by"] == "shipmate"
        assert container.labels["shipmate.installation"] == settings.installation
        given = dict(e.split("=", 1) for e in container.attrs["Config"]["Env"])
        assert "EVENTS_QUEUE_URL" not in given  # no queue on the local target
        # the service's secrets: in a file only the worker's user reads, never in Slack
        secrets = secrets_file(settings, service, "staging")
        assert secrets.stat().st_mode & 0o777 == 0o600
        kept = json.loads(secrets.read_text())
        password = kept.pop("DATABASE_PASSWORD")  # reaches the container in its URL alone
        assert kept.pop("_pair")["shipmate.service"] == service  # whose file: never an env var
        assert "DATABASE_PASSWORD" not in given and f":{password}@" in given["DATABASE_URL"]
        assert kept and all(given.get(name) == value for name, value in kept.items()), kept

        def healthy():
            container.reload()
            return container.attrs["State"]["Health"]["Status"] == "healthy"

        eventually_sync(healthy, interval=0.5, what="Docker to call the deployed version healthy")
    finally:
        tear_down(settings, service)


def test_a_version_that_never_becomes_ready_is_removed_and_the_old_one_keeps_serving(
    settings, images
):
    service = name()
    try:
        live = deploy(settings, service, images[2], 2)
        written = httpx.post(f"{live.url}/notes", json={"title": "still here"})
        assert written.status_code == 201, (written.status_code, written.text)
        with Poller(live.url) as poller, pytest.raises(DeployFailed) as failed:
            deploy(settings, service, images[3], 3)
        assert str(failed.value).startswith("rolled back: v3 never became ready")
        assert f"v2 keeps serving at {live.url}" in str(failed.value)
        assert "migration exploded" in "\n".join(failed.value.log_tail)
        assert poller.failures == []
        assert _containers(settings, service) == [live.container]
        assert httpx.get(f"{live.url}/notes").json()[0]["title"] == "still here"
    finally:
        tear_down(settings, service)


class WorkerDied(Exception):
    """The worker running the deploy is gone: the activity stops where it was."""


@pytest.mark.parametrize("database", [Database.sqlite, Database.mysql])
def test_a_deploy_retried_after_its_worker_died_lets_the_start_under_way_finish(
    settings, images, database
):
    """A migration killed midway leaves SQLite's and MariaDB's schema half made (their DDL
    is not transactional), so the retry must not kill the start the dead worker left."""
    service = name()

    def dies_while_waiting(detail: str) -> None:
        if detail.startswith("waiting for"):
            raise WorkerDied(detail)

    request = DeployInput(
        service=service, environment="staging", image=images["slow"], database=database, version=1
    )
    try:
        with pytest.raises(WorkerDied):
            LOCAL.deploy(settings, request, dies_while_waiting)
        [under_way] = _containers(settings, service)
        engine = docker.from_env()
        started = engine.containers.get(under_way).id
        said: list[str] = []
        retried = LOCAL.deploy(settings, request, said.append)
        assert engine.containers.get(retried.container).id == started  # not a second start
        assert _containers(settings, service) == [under_way]
        assert any("letting an earlier attempt" in line for line in said)
        LOCAL.verify(settings, retried, print)
        created = httpx.post(f"{retried.url}/notes", json={"title": "after the retry"})
        assert created.status_code == 201, created.text
    finally:
        tear_down(settings, service, database)


def test_roll_back_puts_the_older_version_and_its_schema_back(settings, images):
    service = name()
    try:
        deploy(settings, service, images[1], 1)
        live = deploy(settings, service, images[2], 2)
        written = httpx.post(f"{live.url}/notes", json={"title": "written on v2", "body": "t"})
        assert written.status_code == 201, written.text
        back = deploy(settings, service, images[1], 1, migrate_down_with=images[2])
        assert back.url == live.url
        [note] = httpx.get(f"{back.url}/notes").json()
        assert note == {"id": note["id"], "title": "written on v2"}  # v1's shape, v2's row
        assert _columns(settings, service) == ["id", "title"]
    finally:
        tear_down(settings, service)


def test_a_migration_that_fails_in_its_container_refuses_with_its_own_words(settings, images):
    back = DeployInput(
        service=name(),
        environment="staging",
        image=images[1],
        version=1,
        migrate_down_with=images[2],
    )
    nowhere = "postgresql://nobody:x@127.0.0.1:1/none"  # alembic cannot reach it and says so
    with pytest.raises(DeployFailed) as failed:
        local_downgrade.migrate_down(settings, back, nowhere, {}, "bridge", heartbeat=print)
    assert str(failed.value).startswith("cannot roll the database back to v1: ")
    assert "the live version keeps serving" in str(failed.value)
    assert any("Error" in line for line in failed.value.log_tail)


def test_tear_down_leaves_nothing_of_its_own_and_touches_no_other_installation(
    settings, images, tmp_path
):
    service = name()
    other = settings.model_copy(  # another team's Shipmate on the same engine and servers
        update={
            "state_dir": tmp_path,
            "installation": f"o{uuid.uuid4().hex[:6]}",
            "router_admin_port": settings.router_admin_port + 1,
            "local_ports": _shifted(settings.local_ports, 20),
        }
    )
    try:
        mine = deploy(settings, service, images[1], 1)
        theirs = deploy(other, service, images[1], 1)
        assert mine.url != theirs.url
        asked = TeardownInput(service=service, environment="staging", database=Database.postgresql)
        database = database_identifier(settings, service, "staging")
        # what the approver's confirmation says goes, before anything goes
        assert LOCAL.describe_teardown(settings, asked) == (
            f"its containers, its address {mine.url} and the PostgreSQL database "
            f"`{database}` with all its rows"
        )

        removed = tear_down(settings, service)

        assert database_identifier(settings, service, "staging") in removed
        assert _containers(settings, service) == []
        assert not _database_exists(settings, database_identifier(settings, service, "staging"))
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{mine.url}/health")
        assert httpx.get(f"{theirs.url}/ready").status_code == 200
        assert _containers(other, service) == [theirs.container]
    finally:
        tear_down(settings, service)
        tear_down(other, service)
        _remove_router(other)


def test_a_mysql_spec_without_a_server_says_what_to_set(settings, images):
    bare = settings.model_copy(update={"mysql_url": None})
    with pytest.raises(DeployFailed, match="SHIPMATE_MYSQL_URL"):
        deploy(bare, name(), images[1], 1, Database.mysql)


def _containers(settings, service: str) -> list[str]:
    from activities.deploy_targets.naming import label_filters

    engine = docker.from_env()
    found = engine.containers.list(
        all=True, filters={"label": label_filters(settings, service, "staging")}
    )
    return [c.name for c in found]


def _columns(settings, service: str) -> list[str]:
    database = database_identifier(settings, service, "staging")
    with psycopg.connect(settings.postgres_url.rsplit("/", 1)[0] + f"/{database}") as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'notes' ORDER BY ordinal_position"
        ).fetchall()
    return [row[0] for row in rows]


def _database_exists(settings, database: str) -> bool:
    with psycopg.connect(settings.postgres_url) as conn:
        return bool(
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        )


def _shifted(ports: str, by: int) -> str:
    first, last = (int(p) for p in ports.split("-"))
    return f"{first + by}-{last}"


def _remove_router(settings) -> None:
    engine = docker.from_env()
    for container in engine.containers.list(
        all=True, filters={"label": f"shipmate.installation={settings.installation}"}
    ):
        container.remove(force=True)
