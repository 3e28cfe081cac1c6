"""Small readings of syntax trees that several checks share."""

from __future__ import annotations

import ast
from collections.abc import Iterator

DB_CALLS = {
    "execute",
    "executemany",
    "exec_driver_sql",
    "scalar",
    "scalars",
    "query",
    "get",
    "commit",
    "flush",
    "add",
    "delete",
    "merge",
    "refresh",
    "all",
    "first",
    "one",
    "one_or_none",
    "fetchall",
    "fetchone",
}
DB_OWNERS = {"session", "db", "conn", "connection", "cursor", "cur", "engine", "tx", "database"}


def dotted(node: ast.AST | None) -> str:
    """`a.b.c` for a name or attribute chain; "" for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def call_name(call: ast.Call) -> str:
    return dotted(call.func)


def last_name(node: ast.AST | None) -> str:
    """The last part of a call's callee or a name: `require_role` for `sec.require_role(x)`."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def imports(tree: ast.Module) -> dict[str, str]:
    """Local name -> what it is: `rq` -> `requests`, `get` -> `requests.get`."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def resolved(call: ast.Call, names: dict[str, str]) -> str:
    """The callee's dotted name with its first part resolved through the imports."""
    name = call_name(call)
    head, _, rest = name.partition(".")
    if head in names:
        return names[head] + ("." + rest if rest else "")
    return name


def functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def is_db_call(node: ast.AST) -> bool:
    """A call that talks to a database: `session.execute(...)`, `db.query(...).all()`."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    if node.func.attr not in DB_CALLS:
        return False
    owner = dotted(node.func.value).lower().split(".")[-1]
    words = set(owner.split("_"))  # `db`, `async_session`, `dbsession`: not `current_user`
    if words & DB_OWNERS or owner.endswith(("session", "conn", "cursor")):
        return True
    inner = node.func.value
    return isinstance(inner, ast.Call) and is_db_call(inner) or _is_query_chain(inner)


def _is_query_chain(node: ast.AST) -> bool:
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "query":
            return True
        node = node.func.value
    return False


def contains_db_call(nodes: list[ast.stmt]) -> bool:
    return any(is_db_call(sub) for node in nodes for sub in ast.walk(node))


def string_value(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)
