"""SQL built from strings: an f-string, `%`, `+` or `.format` reaching `execute`, `text()`
or `raw()` puts whatever the caller sent into the statement (SQL injection). Bound
parameters keep data apart from the statement."""

from __future__ import annotations

import ast
import re

from ..patches import call_source, replace_segment
from ..sarif_runs import Issue
from ..source import Module, Project
from .common import dotted, functions, last_name

SINKS = {"execute", "executemany", "exec_driver_sql", "executescript", "raw", "read_sql"}
TEXT_CALLS = {"text", "literal_column"}
SQL_WORDS = re.compile(
    r"\b(select\s.+\sfrom|insert\s+into|update\s.+\sset|delete\s+from|where\s|order\s+by"
    r"|drop\s+table|create\s+table|alter\s+table)",
    re.I | re.S,
)
WHY = (
    "Values pasted into SQL are parsed as SQL: a name like `x' OR '1'='1` reads or changes "
    "rows it should not (SQL injection). Pass them as bound parameters instead."
)


def check(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for module in project.modules:
        seen: set[int] = set()
        for built, call in _built_sql(module.tree):
            if built.lineno in seen:
                continue
            seen.add(built.lineno)
            issues.append(
                Issue(
                    rule="sql-from-string",
                    severity="low" if module.is_test or module.is_migration else "high",
                    path=module.path,
                    line=built.lineno,
                    column=built.col_offset + 1,
                    message=f"SQL built from a string ({_how(built)}) reaches {last_name(call)}()",
                    why=WHY,
                    patch=_parameterised(module, built, call),
                )
            )
    return issues


def _built_sql(tree: ast.Module):
    """(string expression, sink call) pairs, following a name assigned in the same function."""
    scopes: list[ast.AST] = [tree, *functions(tree)]
    for scope in scopes:
        assigned: dict[str, ast.expr] = {}
        inside: set[int] = set()  # text() calls already seen through their execute()
        for node in _walk_scope(scope):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name) and _is_built(node.value):
                    assigned[target.id] = node.value
            if not isinstance(node, ast.Call) or not node.args or id(node) in inside:
                continue
            name = last_name(node)
            if name not in SINKS and name not in TEXT_CALLS:
                continue
            argument = node.args[0]
            wrapped = isinstance(argument, ast.Call) and last_name(argument) in TEXT_CALLS
            if wrapped:
                inside.add(id(argument))
                if not argument.args:
                    continue
                argument = argument.args[0]
            if isinstance(argument, ast.Name) and argument.id in assigned:
                argument = assigned[argument.id]
            sql = name in TEXT_CALLS or wrapped or _looks_like_sql(argument)
            if _is_built(argument) and sql:
                yield argument, node


def _walk_scope(root: ast.AST):
    """Nodes in order, not descending into nested functions (they are scopes of their own)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        for child in reversed(list(ast.iter_child_nodes(node))):
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                stack.append(child)


def _is_built(node: ast.AST) -> bool:
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(value, ast.FormattedValue) for value in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return _has_text(node.left) and not _all_constant(node)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format" and _has_text(node.func.value)
    return False


def _has_text(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.BinOp):
        return _has_text(node.left) or _has_text(node.right)
    return isinstance(node, ast.JoinedStr)


def _all_constant(node: ast.AST) -> bool:
    return all(
        isinstance(sub, ast.Constant | ast.BinOp | ast.operator | ast.expr_context)
        for sub in ast.walk(node)
    )


def _looks_like_sql(node: ast.AST) -> bool:
    pieces = [sub.value for sub in ast.walk(node) if isinstance(sub, ast.Constant)]
    return bool(SQL_WORDS.search(" ".join(str(piece) for piece in pieces)))


def _how(node: ast.AST) -> str:
    if isinstance(node, ast.JoinedStr):
        return "an f-string"
    if isinstance(node, ast.Call):
        return ".format()"
    return "`%`" if isinstance(node.op, ast.Mod) else "`+`"


def _parameterised(module: Module, built: ast.AST, call: ast.Call) -> str:
    """For `X.execute(text(f"... '{name}' ..."))` on one line: bound parameters instead."""
    if (
        not isinstance(built, ast.JoinedStr)
        or last_name(call) not in SINKS
        or not dotted(call.func)
    ):
        return ""
    inner = call.args[0]
    if not (
        len(call.args) == 1
        and not call.keywords
        and isinstance(inner, ast.Call)
        and last_name(inner) == "text"
        and inner.args
        and inner.args[0] is built
    ):
        return ""
    sql, params = _placeholders(built)
    if sql is None:
        return ""
    bound = ", ".join(f'"{name}": {source}' for name, source in params.items())
    literal = f'"{sql}"' if '"' not in sql and "\\" not in sql else repr(sql)
    arguments = [f"{dotted(inner.func)}({literal})", "{" + bound + "}"]
    lines = module.lines
    return replace_segment(
        module.path, module.text, call, call_source(module.text, lines, call, arguments)
    )


def _placeholders(built: ast.JoinedStr) -> tuple[str | None, dict[str, str]]:
    """The statement with `:name` placeholders, and name -> the expression's source."""
    pieces: list[str] = []
    params: dict[str, str] = {}
    values = built.values
    strip_quote = False
    for index, value in enumerate(values):
        if isinstance(value, ast.Constant):
            pieces.append(str(value.value)[1:] if strip_quote else str(value.value))
            strip_quote = False
            continue
        if not isinstance(value, ast.FormattedValue) or value.conversion != -1:
            return None, {}
        if value.format_spec is not None or not dotted(value.value):
            return None, {}
        name = dotted(value.value).split(".")[-1]
        source = dotted(value.value)
        if params.get(name, source) != source:
            return None, {}
        params[name] = source
        before = pieces[-1] if pieces else ""
        after = values[index + 1] if index + 1 < len(values) else None
        after_text = after.value if isinstance(after, ast.Constant) else ""
        quoted = before.endswith("'") and str(after_text).startswith("'")
        if quoted:
            pieces[-1] = before[:-1]
            strip_quote = True
        elif before.endswith("'") or str(after_text).startswith("'"):
            return None, {}
        pieces.append(f":{name}")
    return "".join(pieces), params
