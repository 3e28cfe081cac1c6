"""Alembic migrations from spec versions: v1 creates the tables, each later version
migrates the difference so an existing database upgrades without losing its rows, and
every version goes back down again.

A downgrade is the same diff read the other way (new spec -> old spec), so up and down
cannot drift apart. Checks that can refuse a migration (rows with no value for a new
required column, duplicates where a unique constraint comes) run before any change: a
refusal leaves the database as it was, even on MariaDB, which cannot roll DDL back.

Generated from the chain of spec versions alone, so the same chain gives the same files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from activities.scaffold import migration_steps as steps
from activities.scaffold.migration_audit import audit_steps
from activities.scaffold.migration_outbox import inbox_steps, outbox_steps
from activities.scaffold.migration_steps import COLUMN_TYPES, lit
from workflows import identifiers
from workflows.field_defaults import existing_rows_value
from workflows.spec import (
    Auth,
    EntitySpec,
    FieldSpec,
    FieldType,
    RelationSpec,
    ServiceSpec,
)


@dataclass
class Plan:
    """One direction of one migration: checks first, then the changes."""

    checks: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)
    imports: set[str] = field(default_factory=set)

    def needs(self, names: set[str]) -> None:
        """Modules to import, and helpers (their names start with _) to carry."""
        self.helpers |= {n for n in names if n.startswith("_")}
        self.imports |= {n for n in names if not n.startswith("_")}

    def check(self, helper: str, *args: str) -> None:
        self.helpers.add(helper)
        self.checks.append(f"{helper}({', '.join(args)})")


def migration_files(chain: list[ServiceSpec]) -> dict[str, str]:
    """One migration per spec version, path -> source."""
    files = {}
    previous: ServiceSpec | None = None
    for spec in chain:
        before = previous or spec.model_copy(
            update={"entities": [], "auth": Auth.none, "events": [], "consumers": []}
        )
        up = _plan(before, spec, undoing=None)
        down = _plan(spec, before, undoing=spec.version)
        files[f"migrations/versions/v{spec.version:04d}.py"] = _render(spec, previous, up, down)
        previous = spec
    return files


def _render(spec: ServiceSpec, previous: ServiceSpec | None, up: Plan, down: Plan) -> str:
    down_revision = f'"v{previous.version:04d}"' if previous else "None"
    modules = "".join(f"import {name}\n" for name in sorted(up.imports | down.imports))
    dialects = "mysql." in "".join(up.steps + down.steps)
    head = (modules + "\n" if modules else "") + "import sqlalchemy as sa\nfrom alembic import op\n"
    head += "from sqlalchemy.dialects import mysql\n" if dialects else ""
    return f'''"""{spec.name} v{spec.version}{" (initial)" if previous is None else ""}

Revision ID: v{spec.version:04d}
Revises: {f"v{previous.version:04d}" if previous else ""}
"""

{head}
revision = "v{spec.version:04d}"
down_revision = {down_revision}
branch_labels = None
depends_on = None


def upgrade() -> None:
{_body(up)}


def downgrade() -> None:
{_body(down)}
{steps.helper_source(up.helpers | down.helpers)}'''


def _body(plan: Plan) -> str:
    lines = plan.checks + ([""] if plan.checks and plan.steps else []) + plan.steps
    return "\n".join(f"    {line}" if line else "" for line in lines) or "    pass"


def _plan(old: ServiceSpec, new: ServiceSpec, undoing: int | None) -> Plan:
    """What takes a database from `old`'s schema to `new`'s. `undoing` is the version
    whose downgrade this is: what it dropped comes back, and the comments say so."""
    plan = Plan()
    inbox, helpers = inbox_steps(new)
    plan.steps += inbox
    plan.needs(helpers)
    accounts_first, accounts_last = steps.accounts(old, new)
    plan.steps += accounts_first
    before = {e.name: e for e in old.entities}
    after = {e.name: e for e in new.entities}
    kept = before.keys() & after.keys()
    added = [e for e in new.entities if e.name not in before]
    _create_tables(plan, added, new.entities, kept, undoing)
    for entity in new.entities:
        if entity.name in before:
            _alter_table(plan, before[entity.name], entity, old.entities, new.entities, undoing)
    removed = [e for e in old.entities if e.name not in after]
    _drop_tables(plan, removed, old.entities, kept, undoing)
    plan.steps += accounts_last
    outbox, helpers = outbox_steps(new)
    plan.steps += outbox
    plan.needs(helpers)
    trail, helpers = audit_steps(old, new, upgrading=undoing is None)
    plan.steps += trail
    plan.needs(helpers)
    return plan


def _create_tables(
    plan: Plan,
    added: list[EntitySpec],
    entities: list[EntitySpec],
    existing: set[str],
    undoing: int | None,
) -> None:
    order, deferred = steps.ordered(added, existing)
    for entity in order:
        table = entity.table
        if undoing:
            plan.steps += steps.comment(
                f"v{undoing} dropped {table}: it comes back empty, its rows are gone"
            )
        plan.steps += ["op.create_table(", f"    {table!r},"]
        plan.steps.append('    sa.Column("id", sa.Integer(), primary_key=True),')
        plan.steps += [f"    {steps.column(f, not f.required)}," for f in entity.fields]
        for relation in entity.relations:
            target = steps.table_of(entities, relation.target)
            inline = (entity.name, relation.name) not in deferred
            plan.steps.append(
                f"    {steps.fk_column(table, relation, target if inline else None)},"
            )
        for f in entity.fields:
            if f.unique:
                name = identifiers.unique_name(table, f.name)
                plan.steps.append(f"    sa.UniqueConstraint({f.name!r}, name={name!r}),")
        for relation in entity.relations:
            index = identifiers.index_name(table, relation.column)
            plan.steps.append(f"    sa.Index({index!r}, {relation.column!r}),")
        for f in entity.fields:
            if f.own_index:
                index = identifiers.index_name(table, f.name)
                plan.steps.append(f"    sa.Index({index!r}, {f.name!r}),")
        plan.steps += ['    mysql_charset="utf8mb4",', ")"]
    _deferred_keys(plan, order, deferred, entities, steps.create_fk)


def _drop_tables(
    plan: Plan,
    removed: list[EntitySpec],
    entities: list[EntitySpec],
    existing: set[str],
    undoing: int | None,
) -> None:
    """Children before parents; keys in a cycle go first."""
    order, deferred = steps.ordered(removed, existing)
    _deferred_keys(plan, order, deferred, entities, steps.drop_fk)
    for entity in reversed(order):
        why = f"v{undoing} created {entity.table}: it goes" if undoing else f"drops {entity.table}"
        plan.steps += steps.comment(f"{why}, with its rows") + [f"op.drop_table({entity.table!r})"]


def _deferred_keys(plan: Plan, order, deferred, entities: list[EntitySpec], make) -> None:
    """The foreign keys of a cycle, added once both tables exist or dropped before either
    goes: `make` is steps.create_fk or steps.drop_fk."""
    for entity in order:
        plan.steps += steps.batch(
            entity.table,
            [
                make(entity.table, r, steps.table_of(entities, r.target))
                for r in entity.relations
                if (entity.name, r.name) in deferred
            ],
        )


@dataclass
class Table:
    """The changes to one kept table: the fills (UPDATEs) run first, then one batch of
    changes, then a second one that drops the temporary server defaults."""

    plan: Plan
    name: str
    undoing: int | None
    fills: list[str] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)
    later: list[str] = field(default_factory=list)
    reflect: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.ops += steps.comment(text)

    def index(self, column: str, create: bool) -> None:
        name = identifiers.index_name(self.name, column)
        if create:
            self.ops.append(f"batch.create_index({name!r}, [{column!r}])")
        else:
            self.ops.append(f"batch.drop_index({name!r})")

    def unique(self, column: str, create: bool) -> None:
        name = identifiers.unique_name(self.name, column)
        if create:
            self.ops.append(f"batch.create_unique_constraint({name!r}, [{column!r}])")
        else:
            self.ops.append(f'batch.drop_constraint({name!r}, type_="unique")')


def _alter_table(
    plan: Plan,
    old: EntitySpec,
    new: EntitySpec,
    old_entities: list[EntitySpec],
    new_entities: list[EntitySpec],
    undoing: int | None,
) -> None:
    """Removals first (a key before its index: MariaDB needs the index until the key is
    gone), then changes, then additions. A relation whose target changed is removed and
    added again."""
    table = Table(plan, new.table, undoing)
    old_fields = {f.name: f for f in old.fields}
    new_fields = {f.name: f for f in new.fields}
    old_target = {r.name: steps.table_of(old_entities, r.target) for r in old.relations}
    new_target = {r.name: steps.table_of(new_entities, r.target) for r in new.relations}
    kept = {n: old_target[n] for n in old_target.keys() & new_target.keys()}
    kept = {n: target for n, target in kept.items() if target == new_target[n]}
    gone = f"v{undoing} added {{}}: it goes" if undoing else "drops {}"
    for relation in old.relations:
        if relation.name not in kept:
            table.note(gone.format(relation.column) + ", with its links")
            table.ops += [
                steps.drop_fk(table.name, relation, old_target[relation.name]),
                f"batch.drop_index({identifiers.index_name(table.name, relation.column)!r})",
                f"batch.drop_column({relation.column!r})",
            ]
    for f in old.fields:
        if f.name not in new_fields:
            table.note(gone.format(f.name) + ", with its values")
            if f.unique:
                table.unique(f.name, create=False)
            if f.own_index:
                table.index(f.name, create=False)
            table.ops.append(f"batch.drop_column({f.name!r})")
    was = {r.name: r for r in old.relations}
    for relation in new.relations:
        if relation.name in kept:
            _change_relation(table, was[relation.name], relation, kept[relation.name])
    for f in new.fields:
        if f.name in old_fields:
            _change_field(table, old_fields[f.name], f)
        else:
            _add_field(table, f)
    for relation in new.relations:
        if relation.name not in kept:
            _add_relation(table, relation, new_target[relation.name])
    plan.steps += table.fills + steps.batch(table.name, table.ops, table.reflect)
    plan.steps += steps.batch(table.name, table.later)


def _change_relation(table: Table, was: RelationSpec, now: RelationSpec, target: str) -> None:
    if was.on_delete != now.on_delete:
        table.ops += [
            steps.drop_fk(table.name, was, target),
            steps.create_fk(table.name, now, target),
        ]
    if was.required != now.required:
        if now.required:
            hint = lit("Point every row at one, or keep the relation optional.")
            table.plan.check("_require_values", repr(table.name), repr(now.column), hint)
        nullable = str(not now.required)
        table.ops.append(
            steps.alter(now.column, "sa.Integer()", not was.required, nullable=nullable)
        )


def _change_field(table: Table, was: FieldSpec, now: FieldSpec) -> None:
    """Uniqueness goes before a type change and comes after it; rows without a value get
    the default (or the migration stops) before the column becomes NOT NULL."""
    plan, name = table.plan, table.name
    if was.unique and not now.unique:
        table.unique(now.name, create=False)
    if was.own_index and not now.own_index:
        table.index(now.name, create=False)
    changes = {}
    if was.type != now.type:
        changes["type_"] = COLUMN_TYPES[now.type]
        changes["postgresql_using"] = steps.pg_using(now)
        if now.type in steps.TEXT_ON_SQLITE:
            # SQLite keeps these as text; the CAST Alembic would copy them with turns
            # '2024-02-03' into 2024. Declared as the new type already, they copy as is.
            declared = f"{COLUMN_TYPES[now.type]}, nullable={not was.required}"
            table.reflect.append(f"sa.Column({now.name!r}, {declared})")
        if now.type == FieldType.uuid:
            plan.helpers.add("_uuid_hex")
            table.fills.append(f"_uuid_hex({name!r}, {now.name!r})")
    if was.required != now.required:
        changes["nullable"] = str(not now.required)
    if now.required and not was.required and now.default is None:
        plan.check("_require_values", repr(name), repr(now.name), lit(steps.fill_hint(now)))
    elif now.required and not was.required:
        value, needs = steps.python_value(now, now.default)
        plan.needs(needs | {"_fill"})
        column = f"sa.column({now.name!r}, {COLUMN_TYPES[was.type]})"
        table.fills.append(f"_fill({name!r}, {column}, {value})")
        if now.unique:
            plan.check(
                "_refuse_shared_default", repr(name), repr(now.name), repr(now.default), "True"
            )
    if changes:
        table.ops.append(steps.alter(now.name, COLUMN_TYPES[was.type], not was.required, **changes))
    if now.unique and not was.unique:
        plan.check("_refuse_duplicates", repr(name), repr(now.name))
        table.unique(now.name, create=True)
    if now.own_index and not was.own_index:
        table.index(now.name, create=True)


def _add_field(table: Table, f: FieldSpec) -> None:
    """A required field comes with a temporary server default for the rows already there,
    or, with no honest value for them, only into an empty table. A downgrade says what
    comes back: the column, not the values the upgrade dropped."""
    plan, undoing = table.plan, table.undoing
    value = existing_rows_value(f) if f.required else None
    if not f.required:
        comes_back = "empty"
    elif value is None:
        comes_back = "only into an empty table"
    else:
        comes_back = f"as {value!r} in every row"
    if undoing:
        table.note(f"v{undoing} dropped {f.name}: it comes back {comes_back}")
    if not f.required:
        table.ops.append(f"batch.add_column({steps.column(f, True)})")
    elif value is None:
        what = lit(f"the required field {f.name} ({f.type.value})")
        plan.check("_refuse_rows", repr(table.name), what, lit(steps.add_hint(f)))
        table.ops.append(f"batch.add_column({steps.column(f, True)})")
        table.ops.append(steps.alter(f.name, COLUMN_TYPES[f.type], True, nullable="False"))
    else:
        default, needs = steps.server_default(f, value)
        plan.needs(needs)
        if not undoing:
            table.note(f"rows already there get {value!r} until they are edited")
        server = f", server_default={default}"
        table.ops.append(f"batch.add_column({steps.column(f, False, server)})")
        table.later.append(steps.alter(f.name, COLUMN_TYPES[f.type], False, server_default="None"))
        if f.unique:
            args = repr(table.name), repr(f.name), repr(value), "False"
            plan.check("_refuse_shared_default", *args)
    if f.unique:
        table.unique(f.name, create=True)
    if f.own_index:
        table.index(f.name, create=True)


def _add_relation(table: Table, relation: RelationSpec, target: str) -> None:
    """Nothing to point the rows already there at: a required relation only comes into an
    empty table. The index goes before the key, so MariaDB makes none of its own."""
    if relation.required:
        what = repr(f"the required relation {relation.name}")
        hint = lit("Make it optional, point the rows at theirs, then make it required.")
        table.plan.check("_refuse_rows", repr(table.name), what, hint)
    if table.undoing:
        table.note(f"v{table.undoing} dropped {relation.column}: it comes back empty")
    index = identifiers.index_name(table.name, relation.column)
    table.ops += [
        f"batch.add_column({steps.fk_column(table.name, relation, None)})",
        f"batch.create_index({index!r}, [{relation.column!r}])",
        steps.create_fk(table.name, relation, target),
    ]
