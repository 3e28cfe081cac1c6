"""Filtered and foreign-key columns without an index: a `WHERE customer_id = ?` (or a join,
or the parent's delete checking its children) on an unindexed column reads the whole
table. Models are read in one file, queries in others, and Alembic migrations count:
`op.create_index` on the column is an index."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..patches import add_keyword
from ..sarif_runs import Issue
from ..source import Module, Project
from .common import dotted, keyword, last_name, string_value

COLUMN_CALLS = {"Column", "mapped_column"}
INDEXING_KEYWORDS = ("index", "primary_key", "unique")
WHY = (
    "Without an index the database reads every row of the table to find the matching "
    "ones: fine at a hundred rows, seconds per request at millions, and a foreign key's "
    "parent delete or join pays it too. `index=True` (and a migration) fixes it."
)


@dataclass
class Column:
    model: str
    table: str
    name: str
    module: Module
    call: ast.Call
    foreign_key: bool
    indexed: bool
    filtered_at: list[str] = field(default_factory=list)


def check(project: Project) -> list[Issue]:
    columns = _columns(project)
    indexed = _indexed_elsewhere(project, columns)
    _mark_filtered(project, columns)
    issues: list[Issue] = []
    for column in columns.values():
        if column.indexed or (column.table, column.name) in indexed:
            continue
        if not (column.foreign_key or column.filtered_at):
            continue
        what = "a foreign key" if column.foreign_key else "a column"
        if column.filtered_at:
            what += f" filtered on in {', '.join(sorted(set(column.filtered_at))[:3])}"
        issues.append(
            Issue(
                rule="unindexed-column",
                severity="medium",
                path=column.module.path,
                line=column.call.lineno,
                column=column.call.col_offset + 1,
                message=f"{column.model}.{column.name} is {what} without an index",
                why=WHY,
                patch=add_keyword(
                    column.module.path, column.module.text, column.call, "index=True"
                ),
            )
        )
    return issues


def _columns(project: Project) -> dict[tuple[str, str], Column]:
    """(model class, attribute) -> its column declaration, across every module."""
    columns: dict[tuple[str, str], Column] = {}
    for module in project.modules:
        if module.is_test or module.is_migration:
            continue
        for cls in ast.walk(module.tree):
            if not isinstance(cls, ast.ClassDef):
                continue
            table = _table_name(cls)
            if table is None:
                continue
            table_indexed = _table_args_indexed(cls)
            for node in cls.body:
                target, value = _assignment(node)
                if not isinstance(value, ast.Call) or last_name(value) not in COLUMN_CALLS:
                    continue
                name = string_value(value.args[0]) if value.args else None
                name = name or target
                flagged = any(
                    isinstance(keyword(value, kw), ast.Constant) and keyword(value, kw).value
                    for kw in INDEXING_KEYWORDS
                )
                columns[(cls.name, target)] = Column(
                    model=cls.name,
                    table=table,
                    name=name,
                    module=module,
                    call=value,
                    foreign_key=any(
                        isinstance(arg, ast.Call) and last_name(arg) == "ForeignKey"
                        for arg in value.args
                    ),
                    indexed=flagged or name in table_indexed or target in table_indexed,
                )
    return columns


def _assignment(node: ast.stmt) -> tuple[str, ast.expr | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        if isinstance(node.targets[0], ast.Name):
            return node.targets[0].id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    return "", None


def _table_name(cls: ast.ClassDef) -> str | None:
    for node in cls.body:
        target, value = _assignment(node)
        if target == "__tablename__":
            return string_value(value) or cls.name.lower()
    bases = [dotted(base).split(".")[-1] for base in cls.bases]
    if any(base.endswith(("Base", "Model")) for base in bases):
        return cls.name.lower()  # Flask-SQLAlchemy names the table after the class
    return None


def _table_args_indexed(cls: ast.ClassDef) -> set[str]:
    """Columns leading an Index, UniqueConstraint or PrimaryKeyConstraint in __table_args__."""
    for node in cls.body:
        target, value = _assignment(node)
        if target == "__table_args__" and value is not None:
            return _leading_columns(value)
    return set()


def _leading_columns(node: ast.AST) -> set[str]:
    found: set[str] = set()
    for sub in ast.walk(node):
        if not isinstance(sub, ast.Call):
            continue
        name = last_name(sub)
        arguments = sub.args[1:] if name == "Index" else sub.args
        if name in ("Index", "UniqueConstraint", "PrimaryKeyConstraint") and arguments:
            first = arguments[0]
            found.add(
                string_value(first) or (first.attr if isinstance(first, ast.Attribute) else "")
            )
    return found - {""}


def _indexed_elsewhere(project: Project, columns: dict) -> set[tuple[str, str]]:
    """(table, column) indexed by a migration or a module-level `Index("ix", Model.col)`."""
    tables = {column.model: column.table for column in columns.values()}
    indexed: set[tuple[str, str]] = set()
    for module in project.modules:
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Call):
                continue
            name = last_name(node)
            if name in ("create_index", "create_unique_constraint", "create_primary_key"):
                table = string_value(node.args[1]) if len(node.args) > 1 else None
                table = table or string_value(keyword(node, "table_name"))
                listed = node.args[2] if len(node.args) > 2 else keyword(node, "columns")
                if table and isinstance(listed, ast.List | ast.Tuple) and listed.elts:
                    indexed.add((table, string_value(listed.elts[0]) or ""))
            elif name == "create_table" and node.args:
                table = string_value(node.args[0]) or ""
                for arg in node.args[1:]:
                    if isinstance(arg, ast.Call) and last_name(arg) == "Column" and arg.args:
                        if any(
                            isinstance(keyword(arg, kw), ast.Constant) and keyword(arg, kw).value
                            for kw in INDEXING_KEYWORDS
                        ):
                            indexed.add((table, string_value(arg.args[0]) or ""))
                for column in _leading_columns(ast.Tuple(elts=node.args[1:])):
                    indexed.add((table, column))
            elif name == "Index" and len(node.args) > 1:
                first = node.args[1]
                if isinstance(first, ast.Attribute):
                    model = last_name(first.value)
                    indexed.add((tables.get(model, ""), first.attr))
    return indexed


def _mark_filtered(project: Project, columns: dict[tuple[str, str], Column]) -> None:
    """Note where each column is filtered on: `.filter(M.c == x)`, `.where(...)`, `filter_by`."""
    for module in project.modules:
        if module.is_test or module.is_migration:
            continue
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Call) or last_name(node) not in (
                "filter",
                "where",
                "filter_by",
            ):
                continue
            where = f"{module.path}:{node.lineno}"
            for argument in [*node.args, *(kw.value for kw in node.keywords)]:
                for sub in ast.walk(argument):
                    if isinstance(sub, ast.Attribute):
                        key = (last_name(sub.value), sub.attr)
                        if key in columns:
                            columns[key].filtered_at.append(where)
            if last_name(node) == "filter_by":
                model = _queried_model(node)
                for kw in node.keywords:
                    if (model, kw.arg) in columns:
                        columns[(model, kw.arg)].filtered_at.append(where)


def _queried_model(call: ast.Call) -> str:
    """The model a `filter_by` applies to: `session.query(Order).filter_by(...)`."""
    node = call.func.value if isinstance(call.func, ast.Attribute) else None
    while isinstance(node, ast.Call):
        if last_name(node) in ("query", "select") and node.args:
            return last_name(node.args[0]) or dotted(node.args[0])
        node = node.func.value if isinstance(node.func, ast.Attribute) else None
    return ""
