"""The tables of events in a service's migrations: the outbox of a service that
publishes, the inbox of one that consumes.

The first version that publishes events makes the outbox; so does the next version of a
service made before the outbox (it published straight from its handlers), which is why
each step looks before it makes. The version that stops publishing (consuming) drops
its tables.
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
    "_ensure_inbox": '''
def _ensure_inbox() -> None:
    """The ids of the events acted on, unless the database has them already."""
    offline = op.get_context().as_sql
    if offline or "event_inbox" not in sa.inspect(op.get_bind()).get_table_names():
        op.create_table(
            "event_inbox",
            sa.Column("event_id", sa.String(length=36), primary_key=True),
            sa.Column("received_at", sa.Double(), nullable=False),
            mysql_charset="utf8mb4",
        )
''',
    "_drop_inbox": '''
def _drop_inbox() -> None:
    """The ids of the events acted on, where the database has them."""
    offline = op.get_context().as_sql
    if offline or "event_inbox" in sa.inspect(op.get_bind()).get_table_names():
        op.drop_table("event_inbox")
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
    steps: list[str] = []
    for kind, was, now in (
        ("outbox", old.events, new.events),
        ("inbox", old.consumers, new.consumers),
    ):
        if now:
            steps.append(f"_ensure_{kind}()")
        elif was:
            what = "publishes" if kind == "outbox" else "consumes"
            steps += [f"# nothing {what} now: the {kind} goes", f"_drop_{kind}()"]
    return steps, {step.removesuffix("()") for step in steps if step.startswith("_")}
