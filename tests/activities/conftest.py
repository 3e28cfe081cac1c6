"""The databases a migration test runs on: each test gets a fresh one, on SQLite,
PostgreSQL and MariaDB (a module's own `database` fixture or parameter wins)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.activities.migration_checks import driver


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.db'}"
    return request.getfixturevalue(
        "postgres_url" if request.param == "postgresql" else "mariadb_url"
    )


@pytest.fixture()
def engine(database):
    made = sa.create_engine(driver(database))
    yield made
    made.dispose()
