"""Alembic migrations from spec versions: v1 creates the tables, each later version
migrates the difference (added or removed fields and entities, uniqueness, required)
so an existing database upgrades without losing its rows.

Generated from the chain of spec versions alone, so the same chain gives the same files.
"""

from __future__ import annotations

from workflows.spec import Auth, EntitySpec, FieldSpec, FieldType, ServiceSpec, plural, snake_case

COLUMN_TYPES = {
    FieldType.str: "sa.String(length=255)",
    FieldType.text: "sa.Text()",
    FieldType.int: "sa.Integer()",
    FieldType.float: "sa.Float()",
    FieldType.decimal: "sa.Numeric(precision=12, scale=2)",
    FieldType.bool: "sa.Boolean()",
    FieldType.date: "sa.Date()",
    FieldType.datetime: "sa.DateTime()",
    FieldType.uuid: "sa.Uuid()",
    FieldType.email: "sa.String(length=320)",
}
# What existing rows get when a required column is added to a table that has some.
BACKFILL = {
    FieldType.str: "''",
    FieldType.text: "''",
    FieldType.int: "'0'",
    FieldType.float: "'0'",
    FieldType.decimal: "'0'",
    FieldType.bool: "sa.false()",
    FieldType.date: "'1970-01-01'",
    FieldType.datetime: "'1970-01-01 00:00:00'",
    FieldType.uuid: "'00000000-0000-0000-0000-000000000000'",
    FieldType.email: "''",
}


def migration_files(chain: list[ServiceSpec]) -> dict[str, str]:
    """One migration per spec version, path -> source."""
    files = {}
    previous: ServiceSpec | None = None
    for spec in chain:
        upgrade = _create_all(spec) if previous is None else _changes(previous, spec)
        downgrade = _reversal(previous, spec, upgrade)
        files[f"migrations/versions/v{spec.version:04d}.py"] = _render(
            spec, previous, upgrade, downgrade
        )
        previous = spec
    return files


def _render(
    spec: ServiceSpec, previous: ServiceSpec | None, upgrade: list[str], downgrade: list[str]
) -> str:
    down = f'"v{previous.version:04d}"' if previous else "None"
    body = "\n".join(f"    {line}" for line in upgrade) or "    pass"
    back = "\n".join(f"    {line}" for line in downgrade) or "    pass"
    return f'''"""{spec.name} v{spec.version}{" (initial)" if previous is None else ""}

Revision ID: v{spec.version:04d}
Revises: {down.strip('"') if previous else ""}
"""

import sqlalchemy as sa
from alembic import op

revision = "v{spec.version:04d}"
down_revision = {down}
branch_labels = None
depends_on = None


def upgrade() -> None:
{body}


def downgrade() -> None:
{back}
'''


def _reversal(old: ServiceSpec | None, new: ServiceSpec, upgrade: list[str]) -> list[str]:
    """What takes the database from `new` back to `old`, so a rollback restores the older
    version's schema. A version whose upgrade dropped a table or a column cannot be undone:
    the rows are gone, and its downgrade says so instead of pretending."""
    if old is None:
        return ['raise RuntimeError("v1 created the database; there is no version before it")']
    dropped = [line for line in upgrade if ".drop_column(" in line or "op.drop_table(" in line]
    if dropped:
        what = ", ".join(line.split('"')[1] for line in dropped)
        return [
            f'raise RuntimeError("v{new.version} dropped {what}; '
            'that data cannot come back, restore a backup instead")'
        ]
    lines: list[str] = []
    before = {e.name: e for e in old.entities}
    for name, entity in {e.name: e for e in new.entities}.items():
        if name in before:
            lines += _entity_reversal(before[name], entity)
    for entity in reversed(_ordered(new)):
        if entity.name not in before:
            lines.append(f'op.drop_table("{entity.table}")')
    if old.auth == Auth.none and new.auth != Auth.none:
        lines.append('op.drop_table("accounts")')
    return lines


def _entity_reversal(old: EntitySpec, new: EntitySpec) -> list[str]:
    ops: list[str] = []
    table = new.table
    old_fields = {f.name: f for f in old.fields}
    old_relations = {r.name for r in old.relations}
    for relation in new.relations:
        if relation.name not in old_relations:
            target = plural(snake_case(relation.target))
            # SQLite rebuilds the table without the column, and its key with it
            ops.append('if op.get_bind().dialect.name != "sqlite":')
            ops.append(
                f'    batch.drop_constraint("fk_{relation.name}_id_{target}", type_="foreignkey")'
            )
            ops.append(f'batch.drop_column("{relation.name}_id")')
    for field in new.fields:
        was = old_fields.get(field.name)
        if was is None:
            if field.unique:
                ops.append(f'batch.drop_constraint("uq_{table}_{field.name}", type_="unique")')
            ops.append(f'batch.drop_column("{field.name}")')
            continue
        if field.unique and not was.unique:
            ops.append(f'batch.drop_constraint("uq_{table}_{field.name}", type_="unique")')
        if was.unique and not field.unique:
            ops.append(
                f'batch.create_unique_constraint("uq_{table}_{field.name}", ["{field.name}"])'
            )
        if was.required != field.required:
            ops.append(f'batch.alter_column("{field.name}", nullable={not was.required})')
        if was.type != field.type:
            ops.append(f'batch.alter_column("{field.name}", type_={COLUMN_TYPES[was.type]})')
    if not ops:
        return []
    return [f'with op.batch_alter_table("{table}") as batch:'] + [f"    {op}" for op in ops]


def _ordered(spec: ServiceSpec) -> list[EntitySpec]:
    """Entities after the ones they reference, so foreign keys can be created."""
    done: list[EntitySpec] = []
    pending = list(spec.entities)
    while pending:
        progress = False
        for entity in list(pending):
            targets = {r.target for r in entity.relations if r.target != entity.name}
            if targets <= {e.name for e in done}:
                done.append(entity)
                pending.remove(entity)
                progress = True
        if not progress:  # a cycle: the database accepts it once all tables exist
            done += pending
            break
    return done


ACCOUNTS_TABLE = [
    'op.create_table("accounts",',
    '    sa.Column("id", sa.Integer(), primary_key=True),',
    '    sa.Column("username", sa.String(length=150), nullable=False),',
    '    sa.Column("password_hash", sa.String(length=255), nullable=False),',
    '    sa.Column("role", sa.String(length=50), nullable=False),',
    '    sa.UniqueConstraint("username", name="uq_accounts_username"),',
    ")",
]


def _create_all(spec: ServiceSpec, with_accounts: bool = True) -> list[str]:
    lines = list(ACCOUNTS_TABLE) if with_accounts and spec.auth != Auth.none else []
    for entity in _ordered(spec):
        lines.append(f'op.create_table("{entity.table}",')
        lines.append('    sa.Column("id", sa.Integer(), primary_key=True),')
        for field in entity.fields:
            lines.append(f"    {_column(field)},")
        for relation in entity.relations:
            lines.append(f"    {_fk_column(relation.name, relation.target, relation.required)},")
        for field in entity.fields:
            if field.unique:
                lines.append(
                    f'    sa.UniqueConstraint("{field.name}", '
                    f'name="uq_{entity.table}_{field.name}"),'
                )
        lines.append(")")
    return lines


def _changes(old: ServiceSpec, new: ServiceSpec) -> list[str]:
    lines: list[str] = []
    before = {e.name: e for e in old.entities}
    after = {e.name: e for e in new.entities}
    added = [e for e in _ordered(new) if e.name not in before]
    if old.auth == Auth.none and new.auth != Auth.none:
        lines += ACCOUNTS_TABLE
    if added:
        lines += _create_all(new.model_copy(update={"entities": added}), with_accounts=False)
    for name in sorted(before.keys() & after.keys()):
        lines += _entity_changes(before[name], after[name])
    for name in sorted(before.keys() - after.keys()):
        lines.append(f'op.drop_table("{before[name].table}")')
    return lines


def _entity_changes(old: EntitySpec, new: EntitySpec) -> list[str]:
    ops: list[str] = []
    table = new.table
    old_fields = {f.name: f for f in old.fields}
    new_fields = {f.name: f for f in new.fields}
    for field in new.fields:
        was = old_fields.get(field.name)
        if was is None:
            default = f", server_default={BACKFILL[field.type]}" if field.required else ""
            ops.append(f"batch.add_column({_column(field, default)})")
            if field.unique:
                ops.append(
                    f'batch.create_unique_constraint("uq_{table}_{field.name}", ["{field.name}"])'
                )
            continue
        if was.type != field.type:
            ops.append(f'batch.alter_column("{field.name}", type_={COLUMN_TYPES[field.type]})')
        if was.required != field.required:
            ops.append(f'batch.alter_column("{field.name}", nullable={not field.required})')
        if field.unique and not was.unique:
            ops.append(
                f'batch.create_unique_constraint("uq_{table}_{field.name}", ["{field.name}"])'
            )
        if was.unique and not field.unique:
            ops.append(f'batch.drop_constraint("uq_{table}_{field.name}", type_="unique")')
    for name in old_fields.keys() - new_fields.keys():
        if old_fields[name].unique:
            ops.append(f'batch.drop_constraint("uq_{table}_{name}", type_="unique")')
        ops.append(f'batch.drop_column("{name}")')
    old_relations = {r.name for r in old.relations}
    for relation in new.relations:
        if relation.name not in old_relations:
            ops.append(f"batch.add_column({_fk_column(relation.name, relation.target, False)})")
    if not ops:
        return []
    return [f'with op.batch_alter_table("{table}") as batch:'] + [f"    {op}" for op in ops]


def _column(field: FieldSpec, extra: str = "") -> str:
    return (
        f'sa.Column("{field.name}", {COLUMN_TYPES[field.type]}, '
        f"nullable={not field.required}{extra})"
    )


def _fk_column(name: str, target: str, required: bool) -> str:
    table = plural(snake_case(target))
    return (
        f'sa.Column("{name}_id", sa.Integer(), sa.ForeignKey("{table}.id", '
        f'name="fk_{name}_id_{table}"), nullable={not required})'
    )
