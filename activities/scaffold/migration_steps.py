"""The pieces a generated migration is made of: column types, backfill values, guards.

Every value and name lands in Python source that runs against a live database, so names
go in as string literals (Alembic and SQLAlchemy quote them: `from` and `order` are
columns like any other) and the guards are SQLAlchemy constructs, never SQL text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import textwrap
import uuid
from decimal import Decimal

from activities.scaffold import names
from activities.scaffold.migration_audit import HELPERS as AUDIT_HELPERS
from activities.scaffold.migration_outbox import HELPERS as OUTBOX_HELPERS
from workflows import identifiers
from workflows.field_defaults import EXAMPLE_DEFAULTS
from workflows.spec import (
    EntitySpec,
    FieldSpec,
    FieldType,
    OnDelete,
    RelationSpec,
    ServiceSpec,
)

DATETIME = 'sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")'
COLUMN_TYPES = {
    FieldType.str: "sa.String(length=255)",
    FieldType.text: "sa.Text()",
    FieldType.int: "sa.Integer()",
    FieldType.float: "sa.Double()",
    FieldType.decimal: "sa.Numeric(precision=12, scale=2)",
    FieldType.bool: "sa.Boolean()",
    FieldType.date: "sa.Date()",
    FieldType.datetime: DATETIME,  # MySQL's plain DATETIME drops the microseconds
    FieldType.uuid: "sa.Uuid()",
    FieldType.email: "sa.String(length=320)",
}
# PostgreSQL casts between these only when told how: `USING "col"::TYPE`.
PG_TYPES = {
    FieldType.str: "VARCHAR(255)",
    FieldType.text: "TEXT",
    FieldType.int: "INTEGER",
    FieldType.float: "DOUBLE PRECISION",
    FieldType.decimal: "NUMERIC(12, 2)",
    FieldType.bool: "BOOLEAN",
    FieldType.date: "DATE",
    FieldType.datetime: "TIMESTAMP WITH TIME ZONE",
    FieldType.uuid: "UUID",
    FieldType.email: "VARCHAR(320)",
}
TEXT_ON_SQLITE = {FieldType.date, FieldType.datetime, FieldType.uuid}


def lit(text: str) -> str:
    """A Python string literal; long ones split (in parentheses) to stay under 100 columns."""
    if len(text) <= 70:
        return repr(text)
    chunks = re.findall(r".{1,56}(?:\s+|$)|\S+", text)
    return "(" + " ".join(repr(chunk) for chunk in chunks) + ")"


def server_default(field: FieldSpec, text: str) -> tuple[str, set[str]]:
    """`text` as a column's server default, rendered right on every database; and the
    modules and helpers that code needs."""
    kind = field.type
    if kind == FieldType.bool:
        return ("sa.true()" if text == "true" else "sa.false()"), set()
    if kind == FieldType.uuid:  # native on PostgreSQL and MariaDB, 32 hex digits on SQLite
        return f'sa.literal(uuid.UUID("{uuid.UUID(text)}"), sa.Uuid())', {"uuid"}
    if kind == FieldType.datetime:
        moment = f"_utc({_normal(kind, text)!r})"
        return f"sa.literal({moment}, sa.DateTime(timezone=True))", {"datetime", "_utc"}
    return repr(_normal(kind, text)), set()


def python_value(field: FieldSpec, text: str) -> tuple[str, set[str]]:
    """`text` as a Python value bound through the column's type (dates, uuids and decimals
    go to each driver in the form it wants)."""
    kind, value = field.type, _normal(field.type, text)
    if kind == FieldType.bool:
        return ("sa.true()" if text == "true" else "sa.false()"), set()
    if kind == FieldType.int:
        return value, set()
    if kind == FieldType.float:
        number = float(value)
        return (repr(number) if math.isfinite(number) else f"float({value!r})"), set()
    if kind == FieldType.decimal:
        return f"decimal.Decimal({value!r})", {"decimal"}
    if kind == FieldType.date:
        return f"datetime.date.fromisoformat({value!r})", {"datetime"}
    if kind == FieldType.datetime:
        return f"_utc({value!r})", {"datetime", "_utc"}
    if kind == FieldType.uuid:
        return f"uuid.UUID({value!r})", {"uuid"}
    return repr(value), set()


def _normal(kind: FieldType, text: str) -> str:
    """One spelling per value. Datetimes become UTC without an offset (see `_utc`), with
    a space, not a T: SQLite's reader wants one."""
    if kind == FieldType.int:
        return str(int(text))
    if kind == FieldType.float:
        return repr(float(text))
    if kind == FieldType.decimal:
        return format(Decimal(text), "f")
    if kind == FieldType.date:
        return dt.date.fromisoformat(text).isoformat()
    if kind == FieldType.datetime:
        value = dt.datetime.fromisoformat(text)
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if kind == FieldType.uuid:
        return str(uuid.UUID(text))
    return text


def column(field: FieldSpec, nullable: bool, extra: str = "") -> str:
    return f"sa.Column({field.name!r}, {COLUMN_TYPES[field.type]}, nullable={nullable}{extra})"


def fk_name(table: str, relation: RelationSpec, target_table: str) -> str:
    return identifiers.foreign_key_name(table, relation.column, target_table)


def on_delete(relation: RelationSpec) -> str:
    return "CASCADE" if relation.on_delete == OnDelete.cascade else "RESTRICT"


def fk_column(table: str, relation: RelationSpec, target_table: str | None) -> str:
    """The relation's column; with its key inline unless `target_table` is None (a cycle:
    the key is added once both tables exist)."""
    key = ""
    if target_table is not None:
        name = fk_name(table, relation, target_table)
        key = (
            f"sa.ForeignKey({target_table + '.id'!r}, name={name!r}, "
            f"ondelete={on_delete(relation)!r}), "
        )
    return f"sa.Column({relation.column!r}, sa.Integer(), {key}nullable={not relation.required})"


def create_fk(table: str, relation: RelationSpec, target_table: str) -> str:
    name = fk_name(table, relation, target_table)
    return (
        f"batch.create_foreign_key({name!r}, {target_table!r}, [{relation.column!r}], "
        f'["id"], ondelete={on_delete(relation)!r})'
    )


def drop_fk(table: str, relation: RelationSpec, target_table: str) -> str:
    return f'batch.drop_constraint({fk_name(table, relation, target_table)!r}, type_="foreignkey")'


def alter(name: str, existing: str, was_nullable: bool, **changes: str) -> str:
    """MySQL rewrites the whole column on any change, so it is told the existing type and
    nullability every time."""
    extra = "".join(f", {key}={value}" for key, value in changes.items())
    return (
        f"batch.alter_column({name!r}, existing_type={existing}, "
        f"existing_nullable={was_nullable}{extra})"
    )


def pg_using(field: FieldSpec) -> str:
    return repr(f'"{field.name}"::{PG_TYPES[field.type]}')


def add_hint(field: FieldSpec) -> str:
    """What to do when a required field has no value for the rows already there."""
    if field.unique:
        return (
            f"A unique field cannot give every row the same value: make {field.name} "
            "optional, then fill in distinct values and make it required."
        )
    example = EXAMPLE_DEFAULTS[field.type]
    return f"Give {field.name} a default (e.g. `default {example}`) or make it optional."


def fill_hint(field: FieldSpec) -> str:
    example = EXAMPLE_DEFAULTS[field.type]
    return (
        f"Fill them in, give {field.name} a default (e.g. `default {example}`), "
        "or keep it optional."
    )


def table_of(entities: list[EntitySpec], name: str) -> str:
    return next(e.table for e in entities if e.name == name)


def accounts(old: ServiceSpec, new: ServiceSpec) -> tuple[list[str], list[str]]:
    """The accounts table's steps from `old` to `new`: those before the entities' tables
    change (creating it, or moving it aside for an entity's table of that name) and those
    after (dropping it, or moving it back once that entity's table is gone)."""
    was, now = names.accounts_table(old), names.accounts_table(new)
    if not old.auth.keeps_accounts and new.auth.keeps_accounts:
        return _accounts_table(now), []
    if old.auth.keeps_accounts and not new.auth.keeps_accounts:
        return [], ["# drops the accounts, and every sign-in with them", f"op.drop_table({was!r})"]
    if not new.auth.keeps_accounts:
        return [], []
    if was == now:
        return [], []
    why = f"an entity's table is {was}" if now == names.ACCOUNTS_TABLE_ASIDE else "it is free"
    moved = comment(f"the accounts move to {now}: {why}") + [
        f"op.rename_table({was!r}, {now!r})",
        *batch(
            now,
            [
                f"batch.drop_constraint({identifiers.unique_name(was, 'username')!r}, "
                'type_="unique")',
                f"batch.create_unique_constraint("
                f'{identifiers.unique_name(now, "username")!r}, ["username"])',
            ],
        ),
    ]
    return (moved, []) if now == names.ACCOUNTS_TABLE_ASIDE else ([], moved)


def _accounts_table(table: str) -> list[str]:
    unique = identifiers.unique_name(table, "username")
    return [
        "op.create_table(",
        f"    {table!r},",
        '    sa.Column("id", sa.Integer(), primary_key=True),',
        '    sa.Column("username", sa.String(length=150), nullable=False),',
        '    sa.Column("password_hash", sa.String(length=255), nullable=False),',
        '    sa.Column("role", sa.String(length=50), nullable=False),',
        f'    sa.UniqueConstraint("username", name={unique!r}),',
        '    mysql_charset="utf8mb4",',
        ")",
    ]


# Functions a generated migration carries with it when its steps use them: each
# migration stays readable and runs without importing the service's code.
HELPERS = {
    "_rows": '''
def _rows(table: str, empty: str | None = None) -> int:
    """Rows in `table`; with `empty`, only those with no value in that column."""
    if op.get_context().as_sql:
        return 0  # offline (--sql): no rows to look at
    source = sa.table(table, *([sa.column(empty)] if empty else []))
    query = sa.select(sa.func.count()).select_from(source)
    if empty:
        query = query.where(source.c[empty].is_(None))
    return op.get_bind().scalar(query)
''',
    "_refuse_rows": '''
def _refuse_rows(table: str, what: str, hint: str) -> None:
    """Existing rows would have no value for a new required column: stop before any
    change, saying what to do."""
    rows = _rows(table)
    if rows:
        raise RuntimeError(
            f"Cannot add {what} to {table}: the table has {rows} row(s) and there is "
            f"no value for them. {hint}"
        )
''',
    "_require_values": '''
def _require_values(table: str, column: str, hint: str) -> None:
    """Rows without a value would break a NOT NULL: stop before any change."""
    missing = _rows(table, column)
    if missing:
        raise RuntimeError(
            f"Cannot make {table}.{column} required: {missing} row(s) have no value. {hint}"
        )
''',
    "_refuse_duplicates": '''
def _refuse_duplicates(table: str, column: str) -> None:
    """Name the values shared by several rows instead of a raw unique violation."""
    if op.get_context().as_sql:
        return
    source = sa.table(table, sa.column(column))
    value = source.c[column]
    query = (
        sa.select(value, sa.func.count())
        .where(value.is_not(None))
        .group_by(value)
        .having(sa.func.count() > 1)
        .order_by(value)
        .limit(5)
    )
    shared = op.get_bind().execute(query).all()
    if shared:
        values = ", ".join(
            f"{(repr if isinstance(found, str) else str)(found)} ({count} rows)"
            for found, count in shared
        )
        raise RuntimeError(
            f"Cannot make {table}.{column} unique: these values are on more than one "
            f"row: {values}. Change them so each row has its own, or keep it not unique."
        )
''',
    "_refuse_shared_default": '''
def _refuse_shared_default(table: str, column: str, default: str, empty: bool) -> None:
    """A unique column filled from one default works for a single row at most."""
    rows = _rows(table, column if empty else None)
    if rows > 1:
        raise RuntimeError(
            f"Cannot make {table}.{column} unique: its default {default!r} would be the "
            f"value of {rows} rows. Make it optional, then fill in distinct values."
        )
''',
    "_utc": '''
def _utc(moment: str) -> datetime.datetime:
    """A UTC moment: PostgreSQL is told the offset; SQLite and MariaDB keep none (and
    MariaDB refuses one in a default), so they store the UTC time itself."""
    value = datetime.datetime.fromisoformat(moment)
    if op.get_context().dialect.name == "postgresql":
        return value.replace(tzinfo=datetime.UTC)
    return value
''',
    "_uuid_hex": '''
def _uuid_hex(table: str, column: str) -> None:
    """Without a native uuid type SQLAlchemy stores 32 hex digits: text that becomes a
    uuid is spelled that way, or looking a row up by its uuid would miss it."""
    if op.get_context().dialect.supports_native_uuid:
        return
    source = sa.table(table, sa.column(column))
    value = source.c[column]
    spelled = sa.func.lower(sa.func.replace(value, "-", ""))
    op.execute(source.update().where(value.is_not(None)).values({column: spelled}))
''',
    "_fill": '''
def _fill(table: str, column: sa.ColumnClause, value: object) -> None:
    """Give the rows with no value in `column` the field's default."""
    source = sa.table(table, column)
    empty = source.c[column.name].is_(None)
    op.execute(source.update().where(empty).values({column.name: value}))
''',
}
NEEDS = {name: {"_rows"} for name in ("_refuse_rows", "_require_values", "_refuse_shared_default")}


HELPERS |= OUTBOX_HELPERS | AUDIT_HELPERS


def helper_source(used: set[str]) -> str:
    names = set(used)
    for name in used:
        names |= NEEDS.get(name, set())
    return "".join("\n" + HELPERS[name] for name in sorted(names))


def batch(table: str, ops: list[str], reflect: list[str] = ()) -> list[str]:
    """One batch per table and pass: on SQLite each is one copy of the table."""
    if not ops:
        return []
    args = f", reflect_args=[{', '.join(reflect)}]" if reflect else ""
    return [f"with op.batch_alter_table({table!r}{args}) as batch:"] + [f"    {o}" for o in ops]


def comment(text: str) -> list[str]:
    """Comment lines short enough for the generated project's line length."""
    return ["# " + line for line in textwrap.wrap(text, 72, break_on_hyphens=False)]


def ordered(
    entities: list[EntitySpec], existing: set[str]
) -> tuple[list[EntitySpec], set[tuple[str, str]]]:
    """Entities after the ones they reference, so foreign keys can be created; and the
    (entity, relation) pairs in a cycle, whose keys wait until both tables exist."""
    done, order, deferred = set(existing), [], set()
    pending = list(entities)
    while pending:
        ready = next(
            (e for e in pending if {r.target for r in e.relations} - {e.name} <= done), None
        )
        if ready is None:
            ready = pending[0]
            deferred |= {
                (ready.name, r.name)
                for r in ready.relations
                if r.target not in done and r.target != ready.name
            }
        order.append(ready)
        done.add(ready.name)
        pending.remove(ready)
    return order, deferred
