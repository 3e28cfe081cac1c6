"""The audit trail's table in a service's migrations, on SQLite, PostgreSQL and MariaDB:
the first version makes it, a service made before the trail gets it with its next
version, and nothing a change request or a roll back does removes it or its entries."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from activities.scaffold.generator import write_service
from tests.activities.migration_checks import alembic, matches_the_models, migrate
from workflows.spec import EntitySpec, FieldSpec, ServiceSpec

TRAIL = "audit_trail"
CUSTOMER = EntitySpec(name="Customer", fields=[FieldSpec(name="email", type="email")])
NOTE = EntitySpec(name="Note", fields=[FieldSpec(name="body", type="text")])


def spec(version: int, *entities: EntitySpec) -> ServiceSpec:
    return ServiceSpec(name="crm-api", entities=list(entities), version=version)


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def entries(engine: sa.Engine) -> list[tuple[str, str, int]]:
    trail = sa.table(TRAIL, sa.column("entity"), sa.column("action"), sa.column("row_id"))
    with engine.connect() as db:
        return [tuple(row) for row in db.execute(sa.select(trail).order_by(trail.c.row_id))]


def write_an_entry(engine: sa.Engine, entity: str, row_id: int) -> None:
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO audit_trail (at, actor, action, entity, row_id, changed) "
                "VALUES (:at, 'admin', 'created', :entity, :row_id, '[]')"
            ),
            {"at": dt.datetime(2026, 1, 2, 3, 4, 5), "entity": entity, "row_id": row_id},
        )


def test_the_first_version_makes_the_trail_as_the_models_describe_it(tmp_path, database, engine):
    project = tmp_path / "crm"
    write_service(spec(1, CUSTOMER), project)
    migrate(project, database, "upgrade", "head")
    assert TRAIL in tables(engine)
    matches_the_models(project, database)


def test_a_service_made_before_the_trail_gets_it_with_its_next_version(tmp_path, database, engine):
    project = tmp_path / "crm"
    write_service(spec(1, CUSTOMER), project)
    migrate(project, database, "upgrade", "head")
    with engine.begin() as db:  # as a database migrated before the trail existed
        db.execute(sa.text(f"DROP TABLE {TRAIL}"))
    write_service(spec(2, CUSTOMER, NOTE), project)
    migrate(project, database, "upgrade", "head")
    assert TRAIL in tables(engine)
    matches_the_models(project, database)


def test_no_change_or_roll_back_removes_the_trail_or_what_it_says(tmp_path, database, engine):
    project = tmp_path / "crm"
    write_service(spec(1, CUSTOMER, NOTE), project)
    migrate(project, database, "upgrade", "head")
    write_an_entry(engine, "Note", 7)
    write_service(spec(2, CUSTOMER), project)  # the change removes notes
    migrate(project, database, "upgrade", "head")
    assert "notes" not in tables(engine)
    assert entries(engine) == [("Note", "created", 7)]
    migrate(project, database, "downgrade", "-1")  # and a roll back brings them back
    assert "notes" in tables(engine)
    migrate(project, database, "downgrade", "base")
    assert tables(engine) & {TRAIL, "customers", "notes"} == {TRAIL}
    assert entries(engine) == [("Note", "created", 7)]


def test_a_script_made_offline_makes_the_trail_once(tmp_path):
    project = tmp_path / "crm"
    write_service(spec(1, CUSTOMER), project, history=[])
    write_service(spec(2, CUSTOMER, NOTE), project)
    script = alembic(project, f"sqlite:///{tmp_path / 'never.db'}", "upgrade", "--sql", "head")
    assert script.returncode == 0, script.stderr[-2000:]
    assert script.stdout.count("CREATE TABLE audit_trail") == 1
    assert script.stdout.count("CREATE INDEX ix_audit_trail_entity_row") == 1
