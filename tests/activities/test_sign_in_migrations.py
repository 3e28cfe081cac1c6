"""Moving a running service's sign-in between its own passwords and an OpenID Connect
issuer, on SQLite, PostgreSQL and MariaDB: the accounts table goes when the issuer takes
over (said before anyone approves) and comes back, empty, with the passwords; the
service's own rows stay through every step, up and down."""

from __future__ import annotations

import sqlalchemy as sa

from activities.scaffold.generator import write_service
from tests.activities.migration_checks import (
    NOT_THE_SPECS,
    insert,
    matches_the_models,
    migrate,
    rows,
)
from workflows.data_loss import change_losses, rollback_losses
from workflows.spec import Auth, EntitySpec, FieldSpec, ServiceSpec

NOTE = EntitySpec(name="Note", fields=[FieldSpec(name="title")])


def chain() -> list[ServiceSpec]:
    """v1 keeps passwords, v2 hands sign-in to an issuer, v3 goes back to passwords."""
    return [
        ServiceSpec(name="notes-api", auth=auth, roles=["editor"], entities=[NOTE], version=n)
        for n, auth in ((1, Auth.jwt), (2, Auth.oidc), (3, Auth.jwt))
    ]


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - NOT_THE_SPECS


def test_the_accounts_go_with_the_passwords_and_come_back_empty(tmp_path, database, engine):
    v1, v2, v3 = chain()
    project = tmp_path / "notes"
    write_service(v1, project)
    migrate(project, database, "upgrade", "head")
    insert(engine, "accounts", username="ada", password_hash="x", role="admin")
    insert(engine, "notes", title="kept")

    write_service(v2, project, history=[v1])
    migrate(project, database, "upgrade", "head")
    matches_the_models(project, database)
    assert tables(engine) == {"notes"}
    assert rows(engine, "notes", "title") == [("kept",)]

    write_service(v3, project, history=[v1, v2])
    migrate(project, database, "upgrade", "head")
    matches_the_models(project, database)
    assert tables(engine) == {"notes", "accounts"}
    assert rows(engine, "accounts", "username") == []

    migrate(project, database, "downgrade", "v0002")
    assert tables(engine) == {"notes"}
    migrate(project, database, "downgrade", "v0001")
    assert tables(engine) == {"notes", "accounts"}
    assert rows(engine, "notes", "title") == [("kept",)]


def test_the_loss_is_said_before_the_change_and_before_a_roll_back():
    v1, v2, v3 = chain()
    assert change_losses(v1, v2) == [
        "moves sign-in to its issuer: the accounts table goes, with every account"
    ]
    assert change_losses(v2, v3) == []  # nothing there to lose
    assert rollback_losses([v1, v2]) == [
        "v2 moved sign-in to its issuer: its accounts cannot come back"
    ]
    assert rollback_losses([v2, v3]) == [
        "v3 added sign-in: the accounts table goes, with every account"
    ]
