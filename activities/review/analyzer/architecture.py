"""The code's shape, for architecture notes: which tables refer to which (SQLAlchemy
models and their foreign keys) and which of the project's modules import which.

Written as SARIF graphs on the shipmate run (`run.graphs`, part of SARIF 2.1.0), so
the worker draws them and proposes service boundaries without reading the code again.
Only what the code declares is read: a foreign key named in a model, an import of a
module of the same tree.
"""

from __future__ import annotations

import ast
from pathlib import PurePosixPath

from .checks.common import last_name, string_value
from .checks.indexes import _assignment, _table_name
from .source import Project

MAX_MODULES = 60  # a picture of more says nothing


def graphs(project: Project) -> list[dict]:
    return [_tables(project), _modules(project)]


def _tables(project: Project) -> dict:
    nodes: dict[str, dict] = {}
    edges: list[dict] = []
    for module in project.modules:
        if module.is_test or module.is_migration:
            continue
        for cls in ast.walk(module.tree):
            if not isinstance(cls, ast.ClassDef) or (table := _table_name(cls)) is None:
                continue
            if not _declares_columns(cls):
                continue  # a pydantic BaseModel, a mixin: no table of its own
            nodes[table] = _node(table, f"{cls.name} ({table})", module.path, cls.lineno)
            for node in cls.body:
                column, value = _assignment(node)
                for target in _foreign_keys(value):
                    edges.append((table, target.split(".")[0], column))
    made = [
        {"id": f"e{n}", "sourceNodeId": a, "targetNodeId": b, "label": {"text": col}}
        for n, (a, b, col) in enumerate(edges)
        if a in nodes and b in nodes
    ]
    return {"description": {"text": "tables"}, "nodes": list(nodes.values()), "edges": made}


def _declares_columns(cls: ast.ClassDef) -> bool:
    return any(
        isinstance(value, ast.Call) and last_name(value) in ("Column", "mapped_column")
        for value in (_assignment(node)[1] for node in cls.body)
    )


def _foreign_keys(value: ast.expr | None) -> list[str]:
    """'customers.id' for each ForeignKey('customers.id') in a column's declaration."""
    if not isinstance(value, ast.Call):
        return []
    return [
        target
        for arg in ast.walk(value)
        if isinstance(arg, ast.Call) and last_name(arg) == "ForeignKey" and arg.args
        if (target := string_value(arg.args[0]))
    ]


def _modules(project: Project) -> dict:
    names = {_dotted(m.path): m for m in project.modules if not m.is_test and not m.is_migration}
    kept = dict(sorted(names.items())[:MAX_MODULES])
    edges = []
    for name, module in kept.items():
        for imported in _imports(module.tree, name):
            within = [k for k in kept if imported == k or imported.startswith(k + ".")]
            target = max(within, key=len, default=None)  # the module, not its package
            if target and target != name:
                edges.append((name, target))
    return {
        "description": {"text": "modules"},
        "nodes": [_node(name, name, m.path, 1) for name, m in kept.items()],
        "edges": [
            {"id": f"m{n}", "sourceNodeId": a, "targetNodeId": b}
            for n, (a, b) in enumerate(sorted(set(edges)))
        ],
    }


def _imports(tree: ast.Module, name: str) -> list[str]:
    found = []
    package = name.rsplit(".", 1)[0] if "." in name else ""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package
                parts = package.split(".") if package else []
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found += [f"{base}.{alias.name}" for alias in node.names]
    return found


def _dotted(path: str) -> str:
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or path


def _node(node_id: str, label: str, path: str, line: int) -> dict:
    return {
        "id": node_id,
        "label": {"text": label},
        "location": {
            "physicalLocation": {
                "artifactLocation": {"uri": path, "uriBaseId": "SRCROOT"},
                "region": {"startLine": line},
            }
        },
    }
