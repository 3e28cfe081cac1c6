"""Generated migrations go back as well as forward, on SQLite, PostgreSQL and MariaDB.

A rollback restores the older version's schema with the newer version's own downgrade,
keeping the rows; a version whose upgrade dropped data refuses to go back, saying why.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from activities.scaffold.generator import write_service
from tests.test_scaffold import PYTHON, mariadb_url, postgres_url  # noqa: F401 (fixtures)
from workflows.spec import EntitySpec, FieldSpec, RelationSpec, ServiceSpec

CUSTOMER = EntitySpec(
    name="Customer", fields=[FieldSpec(name="name"), FieldSpec(name="email", type="email")]
)
ORDER = EntitySpec(name="Order", fields=[FieldSpec(name="total", type="decimal")])


def versions() -> list[ServiceSpec]:
    v1 = ServiceSpec(name="shop-api", entities=[CUSTOMER, ORDER])
    orders = ORDER.model_copy(
        update={
            "fields": [
                *ORDER.fields,
                FieldSpec(name="status"),
                FieldSpec(name="note", required=False),
            ],
            "relations": [RelationSpec(name="customer", target="Customer")],
        }
    )
    customers = CUSTOMER.model_copy(
        update={"fields": [FieldSpec(name="name", unique=True), CUSTOMER.fields[1]]}
    )
    product = EntitySpec(name="Product", fields=[FieldSpec(name="sku", unique=True)])
    v2 = v1.model_copy(update={"entities": [customers, orders, product], "version": 2})
    orders_without_note = orders.model_copy(update={"fields": orders.fields[:-1]})
    v3 = v2.model_copy(update={"entities": [customers, orders_without_note, product], "version": 3})
    return [v1, v2, v3]


def alembic(project: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "-m", "alembic", *args],
        cwd=project,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def columns(url: str) -> dict[str, list[str]]:
    engine = create_engine(_driver(url))
    try:
        found = inspect(engine)
        return {t: sorted(c["name"] for c in found.get_columns(t)) for t in found.get_table_names()}
    finally:
        engine.dispose()


def _driver(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://").replace(
        "mysql://", "mysql+pymysql://"
    )


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shop.db'}"
    return request.getfixturevalue(
        "postgres_url" if request.param == "postgresql" else "mariadb_url"
    )


def test_a_rollback_restores_the_older_schema_and_keeps_the_rows(tmp_path, database):
    v1, v2, v3 = versions()
    project = tmp_path / "shop"
    write_service(v1, project)
    assert alembic(project, database, "upgrade", "head").returncode == 0
    before = columns(database)
    engine = create_engine(_driver(database))
    with engine.begin() as db:
        db.execute(text("INSERT INTO customers (name, email) VALUES ('Ada', 'ada@example.com')"))
        db.execute(text("INSERT INTO orders (total) VALUES (12.5)"))
    write_service(v2, project)
    assert alembic(project, database, "upgrade", "head").returncode == 0

    back = alembic(project, database, "downgrade", "v0001")

    assert back.returncode == 0, back.stderr[-2000:]
    assert columns(database) == before
    with engine.connect() as db:
        assert db.execute(text("SELECT name FROM customers")).scalars().all() == ["Ada"]
        assert db.execute(text("SELECT COUNT(*) FROM orders")).scalar() == 1
    again = alembic(project, database, "upgrade", "head")  # and forward once more
    assert again.returncode == 0, again.stderr[-2000:]
    engine.dispose()


def test_a_version_that_dropped_data_refuses_to_go_back(tmp_path, database):
    project = tmp_path / "shop"
    for spec in versions():
        write_service(spec, project)
    assert alembic(project, database, "upgrade", "head").returncode == 0

    back = alembic(project, database, "downgrade", "v0002")

    assert back.returncode != 0
    assert "v3 dropped note; that data cannot come back, restore a backup instead" in back.stderr
    assert "note" not in columns(database)["orders"]
