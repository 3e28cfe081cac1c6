"""A deploy or a tear-down never takes over what belongs to another pair (#29).

Names keep installations, services and environments apart by construction; these tests
plant, under the very name a deploy would use, a resource labelled, tagged or commented
for ANOTHER pair (a hand-made one, a shared state dir, a bug in a name) and check that
the deploy and the tear-down refuse, naming the resource and whose it is, and leave it
exactly as it was. Real Docker, PostgreSQL and MariaDB; moto for AWS. A resource an
older Shipmate made before it marked them (a database without a comment, a secrets
file without its pair) is accepted and marked.
"""

from __future__ import annotations

import json
import uuid
from contextlib import suppress
from urllib.parse import urlsplit

import docker
import psycopg
import pymysql
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.deploy_targets.local import LocalDocker
from activities.deploy_targets.naming import (
    ENVIRONMENT,
    INSTALLATION,
    SERVICE,
    database_identifier,
    labels,
    resource_name,
    secrets_file,
)
from activities.deploy_targets.ownership import NotOurs
from activities.stages import DeliveryActivities
from testkit.databases import mysql_admin
from workflows.spec import Database, EntitySpec, FieldSpec, ServiceSpec
from workflows.stage_models import DeployInput, ScaffoldInput, TeardownInput

APPROVED = {"requester": "U0ALICE", "approved_by": ["U0BOB"]}
ENV = "staging"


def someone_elses(settings, service: str) -> dict[str, str]:
    """The labels of another installation's same service and environment."""
    return {**labels(settings, service, ENV), INSTALLATION: f"x{uuid.uuid4().hex[:5]}"}


def whose(marks: dict) -> str:
    """How a refusal names the pair a resource belongs to."""
    return f"service {marks[SERVICE]} in {marks[ENVIRONMENT]} of installation {marks[INSTALLATION]}"


def pair_json(marks: dict) -> str:
    return json.dumps({k: marks[k] for k in (INSTALLATION, SERVICE, ENVIRONMENT)})


def new_service() -> str:
    return f"owned-{uuid.uuid4().hex[:6]}"


# --- the local target ---------------------------------------------------------------


def deploy_locally(settings, service: str, database: Database, image: str | None = None):
    """The worker's deploy stage, approved; any image on the engine will do for a deploy
    that is refused before it starts a container."""
    request = DeployInput(
        service=service,
        environment=ENV,
        image=image or settings.base_image,
        database=database,
        version=1,
        **APPROVED,
    )
    return ActivityEnvironment().run(DeliveryActivities(settings).deploy_service, request)


def tear_down_locally(settings, service: str, database: Database) -> str:
    request = TeardownInput(service=service, environment=ENV, database=database)
    return LocalDocker().tear_down(settings, request, heartbeat=print)


def refused(call, *names: str) -> str:
    """Run `call`; it must be refused, for good, with a message naming each of `names`."""
    with pytest.raises((ApplicationError, NotOurs)) as raised:
        call()
    message = str(raised.value)
    if isinstance(raised.value, ApplicationError):
        assert raised.value.non_retryable
        assert raised.value.type in ("DeployRefused", "TeardownRefused")
        message = raised.value.message
    assert message.startswith("refused: "), message
    for name in names:
        assert name in message, (name, message)
    assert "I changed nothing" in message
    return message


def test_a_sqlite_volume_labelled_for_another_pair_is_neither_used_nor_removed(
    settings, docker_ready
):
    service = new_service()
    engine = docker.from_env()
    volume = resource_name(settings, service, ENV) + "-data"
    theirs = someone_elses(settings, service)
    planted = engine.volumes.create(volume, labels=theirs)
    try:
        refused(lambda: deploy_locally(settings, service, Database.sqlite), volume, whose(theirs))
        assert not engine.containers.list(all=True, filters={"volume": volume})
        refused(lambda: tear_down_locally(settings, service, Database.sqlite), volume)
        assert engine.volumes.get(volume).attrs["Labels"] == planted.attrs["Labels"]
    finally:
        planted.remove(force=True)
        tear_down_locally(settings, service, Database.sqlite)


def test_a_secrets_file_of_another_pair_is_neither_read_nor_rewritten_nor_deleted(
    settings, docker_ready
):
    service = new_service()
    path = secrets_file(settings, service, ENV)
    theirs = someone_elses(settings, service)
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = {"JWT_SECRET": "theirs-" + uuid.uuid4().hex, "_pair": json.loads(pair_json(theirs))}
    path.write_text(json.dumps(kept))
    before = path.read_bytes()
    try:
        message = refused(
            lambda: deploy_locally(settings, service, Database.sqlite), str(path), whose(theirs)
        )
        assert kept["JWT_SECRET"] not in message
        refused(lambda: tear_down_locally(settings, service, Database.sqlite), str(path))
        assert path.read_bytes() == before
        volume = resource_name(settings, service, ENV) + "-data"
        assert not docker.from_env().volumes.list(filters={"name": volume})  # nothing made
    finally:
        path.unlink(missing_ok=True)
        tear_down_locally(settings, service, Database.sqlite)


class Postgres:
    """Plant, read back, sign in to and drop a database and its role, as a person would."""

    @staticmethod
    def plant(settings, name: str, password: str, comment: str | None) -> None:
        with psycopg.connect(settings.postgres_url, autocommit=True) as admin:
            admin.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'")
            admin.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
            for kind in ("DATABASE", "ROLE") if comment is not None else ():
                admin.execute(f"COMMENT ON {kind} \"{name}\" IS '{comment}'")

    @staticmethod
    def state(settings, name: str) -> tuple:
        """The role's password hash and the database's and role's comments."""
        with psycopg.connect(settings.postgres_url) as admin:
            return admin.execute(
                "SELECT a.rolpassword, shobj_description(d.oid, 'pg_database'), "
                "shobj_description(a.oid, 'pg_authid') FROM pg_authid a "
                "JOIN pg_database d ON d.datname = a.rolname WHERE a.rolname = %s",
                (name,),
            ).fetchone()

    @staticmethod
    def comments(settings, name: str) -> list[str]:
        return list(Postgres.state(settings, name)[1:])

    @staticmethod
    def login(settings, name: str, password: str) -> None:
        server = urlsplit(settings.postgres_url)
        where = f"{server.hostname}:{server.port or 5432}"
        with psycopg.connect(f"postgresql://{name}:{password}@{where}/{name}") as conn:
            assert conn.execute("SELECT current_user").fetchone() == (name,)

    @staticmethod
    def drop(settings, name: str) -> None:
        with psycopg.connect(settings.postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{name}"')


class MariaDB:
    @staticmethod
    def plant(settings, name: str, password: str, comment: str | None) -> None:
        with mysql_admin(settings.mysql_url) as cursor:
            commented = f" COMMENT '{comment}'" if comment is not None else ""
            cursor.execute(f"CREATE DATABASE `{name}`{commented}")
            cursor.execute(f"CREATE USER '{name}'@'%%' IDENTIFIED BY %s", (password,))
            cursor.execute(f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{name}'@'%'")

    @staticmethod
    def state(settings, name: str) -> tuple:
        """The user as SHOW CREATE USER gives it (with its password hash), the comment."""
        with mysql_admin(settings.mysql_url) as cursor:
            cursor.execute(f"SHOW CREATE USER '{name}'@'%'")
            user = cursor.fetchone()
            cursor.execute(
                "SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
                (name,),
            )
            return user, *cursor.fetchone()

    @staticmethod
    def comments(settings, name: str) -> list[str]:
        return list(MariaDB.state(settings, name)[1:])

    @staticmethod
    def login(settings, name: str, password: str) -> None:
        server = urlsplit(settings.mysql_url)
        where = {"host": server.hostname, "port": server.port or 3306}
        pymysql.connect(**where, user=name, password=password, database=name).close()

    @staticmethod
    def drop(settings, name: str) -> None:
        with mysql_admin(settings.mysql_url) as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"DROP USER IF EXISTS '{name}'@'%'")


SERVERS = {Database.postgresql: Postgres, Database.mysql: MariaDB}


@pytest.mark.parametrize("database", list(SERVERS), ids=["postgresql", "mariadb"])
def test_a_database_commented_for_another_pair_keeps_its_password_and_comment(
    settings, docker_ready, database
):
    server, service = SERVERS[database], new_service()
    name = database_identifier(settings, service, ENV)
    theirs = someone_elses(settings, service)
    password = "theirs-" + uuid.uuid4().hex
    server.plant(settings, name, password, pair_json(theirs))
    before = server.state(settings, name)
    try:
        message = refused(
            lambda: deploy_locally(settings, service, database), f"`{name}`", whose(theirs)
        )
        assert password not in message
        refused(lambda: tear_down_locally(settings, service, database), f"`{name}`")
        assert server.state(settings, name) == before  # the same password, the same comment
        server.login(settings, name, password)
    finally:
        server.drop(settings, name)
        secrets_file(settings, service, ENV).unlink(missing_ok=True)


def test_a_container_of_another_pair_under_the_new_versions_name_is_left_alone(
    settings, docker_ready
):
    service = new_service()
    engine = docker.from_env()
    image = engine.images.get(settings.base_image)
    name = f"{resource_name(settings, service, ENV)}-v1-{image.id[7:15]}"
    theirs = someone_elses(settings, service)
    planted = engine.containers.create(settings.base_image, ["true"], name=name, labels=theirs)
    try:
        refused(
            lambda: deploy_locally(settings, service, Database.sqlite), f"`{name}`", whose(theirs)
        )
        assert engine.containers.get(name).id == planted.id
    finally:
        planted.remove(force=True)
        tear_down_locally(settings, service, Database.sqlite)


def test_a_router_container_of_another_installation_is_not_started_or_used(
    settings, docker_ready, tmp_path
):
    ours = settings.model_copy(
        update={"state_dir": tmp_path, "installation": f"r{uuid.uuid4().hex[:5]}"}
    )
    engine = docker.from_env()
    name = f"shipmate-{ours.installation}-router"
    theirs = {"managed-by": "shipmate", INSTALLATION: "someone-else"}
    planted = engine.containers.create(settings.base_image, ["true"], name=name, labels=theirs)
    try:
        refused(
            lambda: deploy_locally(ours, new_service(), Database.sqlite),
            f"`{name}`",
            f"belongs to installation someone-else, not to installation {ours.installation};",
        )
        found = engine.containers.get(name)
        assert found.id == planted.id and found.status == "created"  # never started
    finally:
        planted.remove(force=True)


@pytest.fixture(scope="module")
def notes_image(settings, docker_ready, tmp_path_factory) -> str:
    """A generated service, built: an accepted older database must serve for real."""
    stages = DeliveryActivities(
        settings.model_copy(update={"state_dir": tmp_path_factory.mktemp("owned")})
    )
    spec = ServiceSpec(
        name="owned-api",
        entities=[EntitySpec(name="Note", fields=[FieldSpec(name="title", required=True)])],
        version=1,
    )
    run = ActivityEnvironment().run
    scaffold = run(stages.scaffold_service, ScaffoldInput(spec=spec, request_text=""))
    return run(stages.build_service_image, scaffold).image


@pytest.mark.parametrize("database", list(SERVERS), ids=["postgresql", "mariadb"])
def test_an_older_unmarked_database_and_secrets_file_are_accepted_and_marked(
    settings, notes_image, database
):
    """What a Shipmate before the markers made: a secrets file without its pair, a
    database (and role) without a comment, the role's password the file's."""
    server, service = SERVERS[database], new_service()
    name = database_identifier(settings, service, ENV)
    password = "older-" + uuid.uuid4().hex
    path = secrets_file(settings, service, ENV)
    path.parent.mkdir(parents=True, exist_ok=True)
    older = {
        "JWT_SECRET": uuid.uuid4().hex * 2,
        "FIRST_ADMIN_USERNAME": "admin",
        "FIRST_ADMIN_PASSWORD": uuid.uuid4().hex,
        "DATABASE_PASSWORD": password,
    }
    path.write_text(json.dumps(older))
    server.plant(settings, name, password, comment=None)
    ours = json.loads(pair_json(labels(settings, service, ENV)))
    try:
        deploy_locally(settings, service, database, image=notes_image)

        kept = json.loads(path.read_text())
        assert kept.pop("_pair") == ours
        assert kept == older  # the same secrets: the service still signs in
        assert [json.loads(c) for c in server.comments(settings, name)] == [ours] * (
            2 if database == Database.postgresql else 1  # MariaDB users take no comment
        )
        server.login(settings, name, password)
        (running,) = docker.from_env().containers.list(filters={"label": f"{SERVICE}={service}"})
        given = dict(e.split("=", 1) for e in running.attrs["Config"]["Env"])
        assert "_pair" not in given and given["JWT_SECRET"] == older["JWT_SECRET"]
        tear_down_locally(settings, service, database)  # marked now: ours to remove
        assert not path.exists()
    finally:
        with suppress(Exception):
            tear_down_locally(settings, service, database)
        server.drop(settings, name)
