"""The doctor's word on the database servers that locally deployed services use.

Either a server named in SHIPMATE_POSTGRES_URL / SHIPMATE_MYSQL_URL, which must answer,
or none, and then `shipmate dev` starts its own, which needs the server's program.
The doctor says which of the two this machine has, so nobody guesses.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from cli import dev_mariadb, dev_postgres
from cli.checks import Check
from cli.devstack import PartFailed
from shipmate.settings import Settings


def database_checks(settings: Settings) -> list[Check]:
    return [
        _check(
            "postgres",
            settings.postgres_url,
            "SHIPMATE_POSTGRES_URL",
            settings.dev_postgres_port,
            dev_postgres.server_program,
            _postgres_answers,
            dev_postgres.FIX,
        ),
        _check(
            "mariadb",
            settings.mysql_url,
            "SHIPMATE_MYSQL_URL",
            settings.dev_mariadb_port,
            dev_mariadb.server_program,
            _mysql_answers,
            dev_mariadb.FIX,
        ),
    ]


def _check(
    name: str,
    url: str | None,
    variable: str,
    port: int,
    program: Callable[[], str],
    answers: Callable[[str], str | None],
    fix: str,
) -> Check:
    if url is not None:
        problem = answers(url)
        if problem is None:
            return Check(name, True, f"{variable}'s server answers (services' databases go there)")
        where = urlsplit(url)  # host and port only: the URL holds a password
        detail = f"{variable}'s server at {where.hostname}:{where.port}: {problem}"
        return Check(name, False, detail, f"start it, or unset {variable}")
    try:
        found = program()
    except PartFailed:
        return Check(name, False, f"{variable} unset and no server to start", fix)
    return Check(name, True, f"{variable} unset: `shipmate dev` starts its own on {port} ({found})")


def _postgres_answers(url: str) -> str | None:
    import psycopg  # as the local deploy target imports it: only when it is needed

    try:
        with psycopg.connect(url, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return _first_line(exc)


def _mysql_answers(url: str) -> str | None:
    import pymysql

    try:
        dev_mariadb.connect(url).close()
    except pymysql.err.MySQLError as exc:
        return _first_line(exc)
    return None


def _first_line(exc: Exception) -> str:
    """A driver's message without the password: it names host and port, never the URL."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
