"""The outbox's tables in a service's migrations.

The first version that publishes events makes them; so does the next version of a
service made before the outbox (it published straight from its handlers), which is why
the step looks before it makes. The version that stops publishing drops them.
"""

from __future__ import annotations

from workflows.spec import ServiceSpec

# Helpers a migration carries (see migration_steps.HELPERS); they match app/events.py.
HELPERS = {
    "_ensure_outbox": '''
def _ensure_outbox() -> None:
    """The outbox and its relays' leases, unless the database has them already."""
    offline = op.get_context().as_sql
    have = set() if offline else set(sa.inspect(op.get_bind()).get_table_names())
    if "event_outbox" not in have:
        op.create_table(
            "event_outbox",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("event_id", sa.String(length=36), nullable=False),
            sa.Column("sink", sa.String(length=16), nullable=False),
            sa.Column("entity", sa.String(length=64), nullable=False),
            sa.Column("action", sa.String(length=16), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            mysql_charset="utf8mb4",
        )
    if "event_relay" not in have:
        op.create_table(
            "event_relay",
            sa.Column("sink", sa.String(length=16), primary_key=True),
            sa.Column("holder", sa.String(length=120), nullable=True),
            sa.Column("expires_at", sa.Double(), nullable=False),
            mysql_charset="utf8mb4",
        )
''',
    "_drop_outbox": '''
def _drop_outbox() -> None:
    """The outbox and its relays' leases, where the database has them."""
    offline = op.get_context().as_sql
    have = None if offline else set(sa.inspect(op.get_bind()).get_table_names())
    for table in ("event_outbox", "event_relay"):
        if have is None or table in have:
            op.drop_table(table)
''',
}


def outbox_steps(old: ServiceSpec, new: ServiceSpec) -> tuple[list[str], set[str]]:
    """The steps from `old` to `new`, and the helpers they call."""
    if new.events:
        return ["_ensure_outbox()"], {"_ensure_outbox"}
    if old.events:
        why = "# nothing publishes now: the outbox goes, with any event not yet sent"
        return [why, "_drop_outbox()"], {"_drop_outbox"}
    return [], set()
