"""The tables of events in a service's migrations: the outbox of a service that
publishes, the inbox of one that consumes.

The first version that publishes events makes the outbox; so does the next version of a
service made before the outbox (it published straight from its handlers), which is why
each step looks before it makes.
"""

from __future__ import annotations

from workflows.spec import ServiceSpec

# Helpers a migration carries (see migration_steps.HELPERS); they match app/events.py.
HELPERS = {
    "_ensure_outbox": '''
def _ensure_outbox() -> None:
    """The outbox and its relays' leases, unless the database has them already."""
    from sqlalchemy.dialects.mysql import LONGTEXT  # MariaDB's TEXT holds 64 KiB

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
            sa.Column(
                "body",
                sa.Text().with_variant(LONGTEXT(), "mysql", "mariadb"),
                nullable=False,
            ),
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
    "_ensure_inbox": '''
def _ensure_inbox() -> None:
    """The ids of the events acted on, and the index the consumer forgets old ones by,
    unless the database has them already (an inbox made before the index gets it)."""
    offline = op.get_context().as_sql
    inspector = None if offline else sa.inspect(op.get_bind())
    if offline or "event_inbox" not in inspector.get_table_names():
        op.create_table(
            "event_inbox",
            sa.Column("event_id", sa.String(length=36), primary_key=True),
            sa.Column("received_at", sa.Double(), nullable=False),
            mysql_charset="utf8mb4",
        )
        op.create_index("ix_event_inbox_received_at", "event_inbox", ["received_at"])
        return
    if op.get_bind().dialect.name == "postgresql":
        _index_inbox_beside_its_writes()
    elif "ix_event_inbox_received_at" not in {
        index["name"] for index in inspector.get_indexes("event_inbox")
    }:
        # MariaDB adds an index online; SQLite has one writer anyway
        op.create_index("ix_event_inbox_received_at", "event_inbox", ["received_at"])
''',
    "_index_inbox_beside_its_writes": '''
def _index_inbox_beside_its_writes() -> None:
    """PostgreSQL: a plain CREATE INDEX would hold the running consumer's inserts for as
    long as a full inbox takes to index, so it is built CONCURRENTLY, outside any
    transaction. Its step comes first in its version, so the commit that needs leaves
    every earlier version whole; an index a stopped build left invalid is made again."""
    valid = op.get_bind().execute(
        sa.text(
            "SELECT indisvalid FROM pg_index "
            "WHERE indexrelid = to_regclass('ix_event_inbox_received_at')"
        )
    ).scalar()
    if valid:
        return
    with op.get_context().autocommit_block():
        if valid is not None:
            op.drop_index("ix_event_inbox_received_at", "event_inbox", postgresql_concurrently=True)
        op.create_index(
            "ix_event_inbox_received_at",
            "event_inbox",
            ["received_at"],
            postgresql_concurrently=True,
        )
''',
}


def outbox_steps(new: ServiceSpec) -> tuple[list[str], set[str]]:
    """The step that makes the outbox, and the helper it calls. The tables are made,
    never dropped: a version that stops publishing migrates while the one before still
    writes events (and a roll back migrates down while the newer one does), so they stay,
    idle, with any event not yet sent; the models' check leaves them out
    (migrations/env.py)."""
    if not new.events:
        return [], set()
    return ["_ensure_outbox()"], {"_ensure_outbox"}


def inbox_steps(new: ServiceSpec) -> tuple[list[str], set[str]]:
    """The step that makes the inbox (kept like the outbox), and its helpers. It goes
    first in its version: on PostgreSQL its index is built outside a transaction."""
    if not new.consumers:
        return [], set()
    return ["_ensure_inbox()"], {"_ensure_inbox", "_index_inbox_beside_its_writes"}
