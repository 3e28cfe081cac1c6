"""What the migration tests check a generated service's database with: alembic run the
way the service runs it, and the schema read back in the terms a spec speaks."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import sqlalchemy as sa

from activities.scaffold import names
from tests.activities.test_scaffold import PYTHON
from workflows import identifiers
from workflows.spec import Auth, ServiceSpec

# Tables a service has whatever its spec says: alembic's own, and the audit trail, which
# no version drops (tests/activities/test_audit_migrations.py checks it).
NOT_THE_SPECS = {"alembic_version", "audit_trail"}


def alembic(project: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "-m", "alembic", *args],
        cwd=project,
        # the service's settings load with its models; a service with sign-in wants a
        # secret, or its issuer
        env={
            **os.environ,
            "DATABASE_URL": url,
            "JWT_SECRET": "migrations-test-" + "s" * 16,
            "OIDC_ISSUER": "https://issuer.example.com",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def migrate(project: Path, url: str, *args: str) -> None:
    result = alembic(project, url, *args)
    assert result.returncode == 0, result.stderr[-3000:]


def matches_the_models(project: Path, url: str) -> None:
    """`alembic check`: the service's models ask for no change to the migrated schema."""
    migrate(project, url, "check")


def refused(project: Path, url: str) -> str:
    """Upgrading fails: alembic's error output, squeezed onto one line."""
    result = alembic(project, url, "upgrade", "head")
    assert result.returncode != 0, "the upgrade should have been refused"
    return " ".join(result.stderr.split())


def driver(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://").replace(
        "mysql://", "mysql+pymysql://"
    )


def reflected(engine: sa.Engine, table: str) -> sa.Table:
    """The table as the database has it, so values go in and come out typed."""
    return sa.Table(table, sa.MetaData(), autoload_with=engine)


def insert(engine: sa.Engine, table: str, **row) -> int:
    """Insert a row (names quoted by SQLAlchemy: `from` is a column too); returns its id."""
    with engine.begin() as db:
        return db.execute(reflected(engine, table).insert().values(row)).inserted_primary_key[0]


def rows(engine: sa.Engine, table: str, *names: str) -> list[tuple]:
    source = reflected(engine, table)
    query = sa.select(*(source.c[name] for name in names)).order_by(source.c.id)
    with engine.begin() as db:
        return [tuple(row) for row in db.execute(query)]


def utc(moment: dt.datetime) -> dt.datetime:
    """PostgreSQL answers with an offset, SQLite and MariaDB with the UTC time itself."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def version(engine: sa.Engine) -> str:
    with engine.begin() as db:
        return db.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def schema(engine: sa.Engine) -> dict[str, dict]:
    """What the database has, in the terms a spec speaks: per table its columns (name ->
    nullable), unique constraints, foreign keys (column, target, ON DELETE) and indexes."""
    found = sa.inspect(engine)
    unsaid = "RESTRICT" if engine.dialect.name == "mysql" else "NO ACTION"  # MariaDB omits it
    tables = {}
    for table in sorted(set(found.get_table_names()) - NOT_THE_SPECS):
        columns = [c for c in found.get_columns(table) if c["name"] != "id"]
        # no server default left behind by a backfill (id's is PostgreSQL's sequence)
        assert [c["name"] for c in columns if c.get("default") is not None] == [], table
        tables[table] = {
            "columns": {c["name"]: c["nullable"] for c in columns},
            "unique": {u["name"]: u["column_names"] for u in found.get_unique_constraints(table)},
            "keys": {
                k["name"]: (
                    k["constrained_columns"],
                    k["referred_table"],
                    (k["options"].get("ondelete") or unsaid).upper(),
                )
                for k in found.get_foreign_keys(table)
            },
            "indexes": {
                i["name"]: i["column_names"] for i in found.get_indexes(table) if not i["unique"]
            },
        }
    return tables


def expected(spec: ServiceSpec) -> dict[str, dict]:
    tables = {}
    if spec.auth != Auth.none:
        accounts = names.accounts_table(spec)  # aside when an entity's table is `accounts`
        tables[accounts] = {
            "columns": {"username": False, "password_hash": False, "role": False},
            "unique": {identifiers.unique_name(accounts, "username"): ["username"]},
            "keys": {},
            "indexes": {},
        }
    table_of = {e.name: e.table for e in spec.entities}
    for entity in spec.entities:
        table = entity.table
        columns = {f.name: not f.required for f in entity.fields}
        columns |= {r.column: not r.required for r in entity.relations}
        tables[table] = {
            "columns": columns,
            "unique": {
                identifiers.unique_name(table, f.name): [f.name] for f in entity.fields if f.unique
            },
            "keys": {
                identifiers.foreign_key_name(table, r.column, table_of[r.target]): (
                    [r.column],
                    table_of[r.target],
                    "CASCADE" if r.on_delete == "cascade" else "RESTRICT",
                )
                for r in entity.relations
            },
            "indexes": {
                identifiers.index_name(table, r.column): [r.column] for r in entity.relations
            }
            | {
                identifiers.index_name(table, f.name): [f.name]
                for f in entity.fields
                if f.own_index
            },
        }
    return tables


def assert_schema_is(engine: sa.Engine, spec: ServiceSpec | None) -> None:
    actual = schema(engine)
    wanted = expected(spec) if spec else {}
    if engine.dialect.name == "mysql":
        # InnoDB indexes a foreign key's column by itself until another index can serve,
        # and keeps that index; the spec's own index must be there all the same.
        for table, parts in actual.items():
            keys = wanted.get(table, {}).get("keys", {})
            parts["indexes"] = {n: c for n, c in parts["indexes"].items() if n not in keys}
    assert actual == wanted
