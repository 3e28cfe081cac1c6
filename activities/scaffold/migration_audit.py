"""The audit trail's table in a service's migrations (app/audit.py says what it holds).

Every version's upgrade makes it unless the database has it: a service made before the
trail existed gets it with its next version. A script made offline (`alembic upgrade
--sql`) cannot look, so only the first version's makes it there. No step ever drops it,
not even the first version's downgrade: the record of who changed what outlives the
rows it is about.
"""

from __future__ import annotations

from workflows.spec import ServiceSpec

TABLE = "audit_trail"

# A helper a migration carries (see migration_steps.HELPERS); it matches app/audit.py.
HELPERS = {
    "_ensure_audit_trail": '''
def _ensure_audit_trail(first: bool) -> None:
    """The audit trail, unless the database has it already (offline: in the first version)."""
    from sqlalchemy.dialects import mysql

    if op.get_context().as_sql:
        if not first:
            return
    elif "audit_trail" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "audit_trail",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "at",
            sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_audit_trail_entity_row", "audit_trail", ["entity", "row_id"])
''',
}


def audit_steps(old: ServiceSpec, new: ServiceSpec, upgrading: bool) -> tuple[list[str], set[str]]:
    """The step from `old` to `new` and the helper it calls: the trail for any service
    with rows to change, on the way up (a downgrade keeps what is there)."""
    if not (upgrading and new.entities):
        return [], set()
    return [f"_ensure_audit_trail(first={not old.entities})"], {"_ensure_audit_trail"}
