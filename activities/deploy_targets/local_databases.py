"""A database of its own for each local service and environment, on a real server.

PostgreSQL and MySQL specs get a database and a role named after the service, the
environment and the installation, on the server `SHIPMATE_POSTGRES_URL` or
`SHIPMATE_MYSQL_URL` names (`shipmate dev` runs its own PostgreSQL and MariaDB and
points them there). The role's password is made once and kept with the service's other
secrets; it reaches the container in DATABASE_URL and nowhere else. A SQLite spec gets
a Docker volume that outlives every container. Creating is idempotent, so a retried
deploy finds what the first attempt made.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote, urlsplit

from docker.errors import NotFound

from activities.deploy_targets.base import DeployFailed
from activities.deploy_targets.naming import database_identifier, labels, resource_name
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
        _postgres_create(admin, name, password)
        return _service_url("postgresql", admin, name, password), {}
    if kind == Database.mysql:
        admin = _admin_url(settings.mysql_url, "SHIPMATE_MYSQL_URL", "MySQL")
        _mysql_create(admin, name, password)
        return _service_url("mysql", admin, name, password), {}
    raise DatabaseUnavailable(f"a {kind.value} database is not something I can run locally")


def drop_database(settings: Settings, kind: Database, service: str, environment: str) -> str:
    """Remove what prepare_database made; returns what was removed, in words."""
    name = database_identifier(settings, service, environment)
    if kind == Database.sqlite:
        volume = _volume_name(settings, service, environment)  # made or not, it goes
        try:
            docker_client(settings).volumes.get(volume).remove(force=True)
        except NotFound:
            pass
        return f"the SQLite volume `{volume}`"
    if kind == Database.postgresql and settings.postgres_url:
        _postgres_drop(settings.postgres_url, name)
        return f"the PostgreSQL database `{name}`"
    if kind == Database.mysql and settings.mysql_url:
        _mysql_drop(settings.mysql_url, name)
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


def _sqlite_volume(settings: Settings, service: str, environment: str) -> str:
    volume = _volume_name(settings, service, environment)
    docker_client(settings).volumes.create(volume, labels=labels(settings, service, environment))
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


def _postgres_create(admin: str, name: str, password: str) -> None:
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            role = sql.Identifier(name)
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(role, sql.Literal(password))
            )
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(role, role))
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            f"PostgreSQL at {_where(admin)} refused: {_first_line(exc)}"
        ) from None


def _postgres_drop(admin: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
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


def _mysql_create(admin: str, name: str, password: str) -> None:
    with _mysql_connect(admin) as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}`")
        cursor.execute(f"CREATE USER IF NOT EXISTS '{name}'@'%%' IDENTIFIED BY %s", (password,))
        cursor.execute(f"ALTER USER '{name}'@'%%' IDENTIFIED BY %s", (password,))
        cursor.execute(f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{name}'@'%'")


def _mysql_drop(admin: str, name: str) -> None:
    with _mysql_connect(admin) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"DROP USER IF EXISTS '{name}'@'%'")


def _where(url: str) -> str:
    """Host and port only: an admin URL may carry a password."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or ''}".rstrip(":")


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
