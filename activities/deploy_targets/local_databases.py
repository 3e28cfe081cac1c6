"""A database of its own for each local service and environment, on a real server.

PostgreSQL and MySQL specs get a database and a role named after the service, the
environment and the installation, on the server `SHIPMATE_POSTGRES_URL` or
`SHIPMATE_MYSQL_URL` names (`shipmate dev` runs its own PostgreSQL and MariaDB and
points them there). The role's password is made once and kept with the service's other
secrets; it reaches the container in DATABASE_URL and nowhere else. A SQLite spec gets
a Docker volume that outlives every container. Creating is idempotent, so a retried
deploy finds what the first attempt made. What it finds must be this pair's (ownership):
the volume by its labels, a database and role by the comment that names the pair.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote, urlsplit

from docker.errors import NotFound

from activities.deploy_targets.base import DeployFailed
from activities.deploy_targets.naming import database_identifier, labels, resource_name
from activities.deploy_targets.ownership import (
    comment_for,
    ours_or_unmarked,
    parse_comment,
    require_ours,
)
from activities.images import docker_client
from shipmate.settings import Settings
from workflows.spec import Database

SQLITE_DIR = "/data"  # the generated Dockerfile makes it, owned by the service's user


class DatabaseUnavailable(DeployFailed):
    """The server a spec's database belongs on is not configured or refused us."""


def database_password(service_secrets: dict[str, str]) -> str:
    return service_secrets.setdefault("DATABASE_PASSWORD", secrets.token_urlsafe(18))


def prepare_database(
    settings: Settings, kind: Database, service: str, environment: str, password: str
) -> tuple[str, dict[str, str]]:
    """The service's DATABASE_URL, and the volumes (name -> mount path) it needs."""
    name = database_identifier(settings, service, environment)
    if kind == Database.sqlite:
        volume = _sqlite_volume(settings, service, environment)
        return f"sqlite:///{SQLITE_DIR}/{name}.db", {volume: SQLITE_DIR}
    if kind == Database.postgresql:
        admin = _admin_url(settings.postgres_url, "SHIPMATE_POSTGRES_URL", "PostgreSQL")
        _postgres_create(admin, name, password, Owner(settings, service, environment))
        return _service_url("postgresql", admin, name, password), {}
    if kind == Database.mysql:
        admin = _admin_url(settings.mysql_url, "SHIPMATE_MYSQL_URL", "MySQL")
        _mysql_create(admin, name, password, Owner(settings, service, environment))
        return _service_url("mysql", admin, name, password), {}
    raise DatabaseUnavailable(f"a {kind.value} database is not something I can run locally")


def check_database(settings: Settings, kind: Database, service: str, environment: str) -> None:
    """Refuse (NotOurs) when the database tear-down would drop belongs to another pair;
    called before anything is removed, so a refused tear-down removes nothing."""
    owner = Owner(settings, service, environment)
    name = database_identifier(settings, service, environment)
    if kind == Database.sqlite:
        _found_volume(settings, service, environment)
    elif kind == Database.postgresql and settings.postgres_url:
        with _postgres(settings.postgres_url) as conn:
            _postgres_check(conn, name, owner)
    elif kind == Database.mysql and settings.mysql_url:
        with _mysql_connect(settings.mysql_url) as conn, conn.cursor() as cursor:
            _mysql_check(cursor, name, owner)


def drop_database(settings: Settings, kind: Database, service: str, environment: str) -> str:
    """Remove what prepare_database made, once it proves this pair's; returns what was
    removed, in words."""
    name = database_identifier(settings, service, environment)
    owner = Owner(settings, service, environment)
    if kind == Database.sqlite:
        volume = _volume_name(settings, service, environment)  # made or not, it goes
        found = _found_volume(settings, service, environment)
        if found is not None:
            found.remove(force=True)
        return f"the SQLite volume `{volume}`"
    if kind == Database.postgresql and settings.postgres_url:
        _postgres_drop(settings.postgres_url, name, owner)
        return f"the PostgreSQL database `{name}`"
    if kind == Database.mysql and settings.mysql_url:
        _mysql_drop(settings.mysql_url, name, owner)
        return f"the MySQL database `{name}`"
    return "no database"


def describe_database(settings: Settings, kind: Database, service: str, environment: str) -> str:
    """What tear-down will delete, for the confirmation people are asked."""
    name = database_identifier(settings, service, environment)
    if kind == Database.sqlite:
        return f"the SQLite volume `{_volume_name(settings, service, environment)}`"
    return f"the {'PostgreSQL' if kind == Database.postgresql else 'MySQL'} database `{name}`"


def _volume_name(settings: Settings, service: str, environment: str) -> str:
    return resource_name(settings, service, environment) + "-data"


class Owner:
    """The pair a database must belong to, and the comment that says so."""

    def __init__(self, settings: Settings, service: str, environment: str):
        self.settings, self.service, self.environment = settings, service, environment
        self.comment = comment_for(settings, service, environment)

    def marked(self, what: str, comment: str | None) -> bool:
        """True when the comment names this pair, False when there is none (an older
        Shipmate's database: accepted and marked); NotOurs when it names another."""
        return ours_or_unmarked(
            what, parse_comment(comment), self.settings, self.service, self.environment
        )


def _found_volume(settings: Settings, service: str, environment: str):
    """The pair's volume if there is one, refused (NotOurs) when labelled for another;
    every Shipmate made its volumes labelled, so an unlabelled one is not ours either."""
    volume = _volume_name(settings, service, environment)
    try:
        found = docker_client(settings).volumes.get(volume)
    except NotFound:
        return None
    marks = found.attrs.get("Labels")
    require_ours(f"the Docker volume `{volume}`", marks, settings, service, environment)
    return found


def _sqlite_volume(settings: Settings, service: str, environment: str) -> str:
    volume = _volume_name(settings, service, environment)
    if _found_volume(settings, service, environment) is None:
        docker_client(settings).volumes.create(
            volume, labels=labels(settings, service, environment)
        )
        _found_volume(settings, service, environment)  # another's, made meanwhile: refused
    return volume


def _admin_url(url: str | None, variable: str, product: str) -> str:
    if not url:
        raise DatabaseUnavailable(
            f"the spec asks for {product}, but no {product} server is set: set {variable} "
            "to an admin URL (shipmate dev sets it for its own PostgreSQL and MariaDB)"
        )
    return url


def _service_url(scheme: str, admin: str, name: str, password: str) -> str:
    parts = urlsplit(admin)
    host = parts.hostname or "127.0.0.1"
    port = f":{parts.port}" if parts.port else ""
    return f"{scheme}://{name}:{quote(password, safe='')}@{host}{port}/{name}"


def _postgres(admin: str):
    """A server that does not answer is Temporal's to retry (a deploy says so at once)."""
    import psycopg

    return psycopg.connect(admin, autocommit=True, connect_timeout=5)


def _postgres_check(conn, name: str, owner: Owner) -> tuple[bool, bool]:
    """Whether the role and the database exist, once their comments name no other pair
    (the role's too: its password is what a deploy would change)."""
    role = conn.execute(
        "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s", (name,)
    ).fetchone()
    database = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        (name,),
    ).fetchone()
    for kind, found in (("role", role), ("database", database)):
        if found is not None:
            owner.marked(f"the PostgreSQL {kind} `{name}`", found[0])
    return role is not None, database is not None


def _postgres_create(admin: str, name: str, password: str, owner: Owner) -> None:
    import psycopg
    from psycopg import sql

    try:
        with _postgres(admin) as conn:
            role = sql.Identifier(name)
            role_exists, database_exists = _postgres_check(conn, name, owner)
            verb = "ALTER" if role_exists else "CREATE"
            conn.execute(
                sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(role, sql.Literal(password))
            )
            if not database_exists:
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(role, role))
            comment = sql.Literal(owner.comment)
            conn.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(role, comment))
            conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(role, comment))
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            f"PostgreSQL at {_where(admin)} refused: {_first_line(exc)}"
        ) from None


def _postgres_drop(admin: str, name: str, owner: Owner) -> None:
    from psycopg import sql

    with _postgres(admin) as conn:
        _postgres_check(conn, name, owner)
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def _mysql_connect(admin: str):
    import pymysql

    parts = urlsplit(admin)
    try:
        return pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=parts.username or "root",
            password=parts.password or "",
            connect_timeout=5,
            autocommit=True,
        )
    except pymysql.err.OperationalError as exc:
        raise DatabaseUnavailable(f"MySQL at {_where(admin)} refused: {exc.args[-1]}") from None


def _mysql_check(cursor, name: str, owner: Owner) -> bool:
    """Whether the server keeps database comments (MariaDB 10.5 and later), once the
    database's comment names no other pair. Users carry no comment on MariaDB: the
    database speaks for its user."""
    cursor.execute(
        "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
        "'information_schema' AND TABLE_NAME = 'SCHEMATA' AND COLUMN_NAME = 'SCHEMA_COMMENT'"
    )
    if not cursor.fetchone()[0]:
        return False
    cursor.execute(
        "SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,)
    )
    found = cursor.fetchone()
    if found is not None:
        owner.marked(f"the MySQL database `{name}`", found[0])
    return True


def _mysql_create(admin: str, name: str, password: str, owner: Owner) -> None:
    with _mysql_connect(admin) as conn, conn.cursor() as cursor:
        commented = _mysql_check(cursor, name, owner)
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}`")
        if commented:
            cursor.execute(f"ALTER DATABASE `{name}` COMMENT %s", (owner.comment,))
        cursor.execute(f"CREATE USER IF NOT EXISTS '{name}'@'%%' IDENTIFIED BY %s", (password,))
        cursor.execute(f"ALTER USER '{name}'@'%%' IDENTIFIED BY %s", (password,))
        cursor.execute(f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{name}'@'%'")


def _mysql_drop(admin: str, name: str, owner: Owner) -> None:
    with _mysql_connect(admin) as conn, conn.cursor() as cursor:
        _mysql_check(cursor, name, owner)
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"DROP USER IF EXISTS '{name}'@'%'")


def _where(url: str) -> str:
    """Host and port only: an admin URL may carry a password."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or ''}".rstrip(":")


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
