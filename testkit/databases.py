"""The database servers a test session uses: the machine's when they answer, else its own.

A fresh Debian machine has no PostgreSQL or MariaDB running, and the README's test
command must pass there all the same; a machine that has them (CI's) should not pay
for a second pair. So each is probed at its usual address (or the one in
SHIPMATE_TEST_POSTGRES_URL / SHIPMATE_TEST_MYSQL_URL), and one that does not answer is
started by the same code `shipmate dev` uses, on a free port, for the session.
"""

from __future__ import annotations

import random
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pymysql

from cli import dev_mariadb, dev_postgres, devstack

MACHINE_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
MACHINE_MYSQL = "mysql://root@127.0.0.1:3306"


@dataclass(frozen=True)
class DatabaseServers:
    """Admin URLs (a PostgreSQL one names its `postgres` database; a MySQL one none)."""

    postgres: str
    mysql: str
    started: tuple[str, ...] = ()  # which of them the session started itself

    def describe(self) -> str:
        return ", ".join(
            f"{name} {'started for the session' if name in self.started else 'of the machine'}"
            for name in ("postgres", "mariadb")
        )

    @contextmanager
    def postgres_database(self) -> Iterator[str]:
        """A fresh database for one test, dropped after it."""
        name = f"shipmate_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.postgres, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield self.postgres.rsplit("/", 1)[0] + f"/{name}"
        finally:
            with psycopg.connect(self.postgres, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    @contextmanager
    def mysql_database(self) -> Iterator[str]:
        name = f"shipmate_{uuid.uuid4().hex[:8]}"
        with mysql_admin(self.mysql) as cursor:
            cursor.execute(f"CREATE DATABASE `{name}`")
        try:
            yield f"{self.mysql.rstrip('/')}/{name}"
        finally:
            with mysql_admin(self.mysql) as cursor:
                cursor.execute(f"DROP DATABASE `{name}`")

    def drop_everything_of(self, installation: str) -> None:
        """Databases and roles the session's deploys made, by their installation suffix."""
        suffix = f"%\\_{installation}"
        with psycopg.connect(self.postgres, autocommit=True) as conn:
            for (name,) in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (suffix,)
            ).fetchall():
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                conn.execute(f'DROP ROLE IF EXISTS "{name}"')
        with mysql_admin(self.mysql) as cursor:
            cursor.execute("SHOW DATABASES LIKE %s", (suffix,))
            for (name,) in cursor.fetchall():
                cursor.execute(f"DROP DATABASE `{name}`")
                cursor.execute(f"DROP USER IF EXISTS '{name}'@'%'")


def forget_own(state_dir: Path) -> None:
    """The data dirs of the servers a session started (under root they live outside the
    state dir, in /var/lib/shipmate): gone with the session, or every run leaves a pair."""
    for server in (dev_postgres.SERVER, dev_mariadb.SERVER):
        shutil.rmtree(server.data_dir(state_dir), ignore_errors=True)


def machine_or_own(
    stack: devstack.LocalStack, state_dir: Path, postgres: str, mysql: str
) -> DatabaseServers:
    """`postgres` and `mysql`: where the machine's would be; a silent one is started."""
    started = []
    if not _postgres_answers(postgres):
        port = devstack.free_port()
        stack.start(dev_postgres.postgres_part(state_dir, port))
        postgres, started = dev_postgres.admin_url(state_dir, port), [*started, "postgres"]
    if not _mysql_answers(mysql):
        port = devstack.free_port()
        stack.start(dev_mariadb.mariadb_part(state_dir, port))
        mysql, started = dev_mariadb.admin_url(state_dir, port), [*started, "mariadb"]
    return DatabaseServers(postgres, mysql, tuple(started))


@contextmanager
def mysql_admin(url: str):
    connection = dev_mariadb.connect(url)
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def _postgres_answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _mysql_answers(url: str) -> bool:
    try:
        with mysql_admin(url):
            return True
    except pymysql.err.OperationalError:
        return False


@contextmanager
def postgres_with_statements(ports: range) -> Iterator[str]:
    """A PostgreSQL of its own, started as `shipmate dev` starts one (pg_stat_statements
    preloaded, which the machine's server does not): its admin URL, for one module."""
    state = Path(tempfile.mkdtemp(prefix="shipmate-pg-statements-"))
    port = next(p for p in random.sample(ports, len(ports)) if _free(p))
    try:
        with devstack.LocalStack(echo=lambda line: None) as stack:
            stack.start(dev_postgres.postgres_part(state, port))
            yield dev_postgres.admin_url(state, port)
    finally:
        shutil.rmtree(dev_postgres.SERVER.data_dir(state), ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
