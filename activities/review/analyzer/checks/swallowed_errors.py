"""A broad `except` that swallows: `except Exception: pass` (or a log line, or `return
None`) turns a failed write, a lost connection or a bug into a quiet wrong answer, and
leaves a database session in a failed transaction for the next use. One that logs the
traceback away from any database call is reported lower: the error is at least seen."""

from __future__ import annotations

import ast

from ..sarif_runs import Issue
from ..source import Project
from .common import contains_db_call, dotted, last_name

BROAD = {"Exception", "BaseException"}
LOGGING = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "print"}
CLEANUP = {"rollback", "close", "remove", "expunge_all"}
WHY = (
    "The error disappears: the caller gets a default as if all went well, nobody is told, "
    "and what failed (a write, a connection) stays failed. Catch the specific error you "
    "can handle, or re-raise after logging."
)
WHY_DB = (
    "A database error disappears here: the write did not happen but the caller is told "
    "nothing, and the session may stay in a failed transaction. Catch the specific error "
    "(e.g. IntegrityError) and answer it, or let it propagate."
)


def check(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for module in project.modules:
        if module.is_test:
            continue
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Try | getattr(ast, "TryStar", ast.Try)):
                continue
            around_db = contains_db_call(node.body)
            for handler in node.handlers:
                if not _broad(handler.type) or not _swallows(handler):
                    continue
                caught = "a bare `except`" if handler.type is None else "`except Exception`"
                recorded = _keeps_traceback(handler) and not around_db
                issues.append(
                    Issue(
                        rule="swallowed-exception",
                        severity="low" if recorded else "medium",
                        path=module.path,
                        line=handler.lineno,
                        column=handler.col_offset + 1,
                        message=f"{caught} swallows the error"
                        + (" of a database call" if around_db else ""),
                        why=WHY_DB if around_db else WHY,
                    )
                )
    return issues


def _keeps_traceback(handler: ast.ExceptHandler) -> bool:
    """`log.exception(...)` or `exc_info=True`: the error is at least in the logs."""
    for node in ast.walk(handler):
        if isinstance(node, ast.Call):
            if last_name(node) == "exception":
                return True
            if any(kw.arg == "exc_info" for kw in node.keywords):
                return True
    return False


def _broad(caught: ast.expr | None) -> bool:
    if caught is None:
        return True
    if isinstance(caught, ast.Tuple):
        return any(_broad(element) for element in caught.elts)
    return last_name(caught) in BROAD


def _swallows(handler: ast.ExceptHandler) -> bool:
    """Nothing in the handler raises, and all it does is pass, log, clean up or return."""
    if any(isinstance(node, ast.Raise) for node in ast.walk(handler)):
        return False
    return all(_quiet(statement) for statement in handler.body)


def _quiet(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Pass | ast.Continue | ast.Break):
        return True
    if isinstance(statement, ast.Expr):
        value = statement.value
        if isinstance(value, ast.Constant):
            return True  # ... or a docstring
        if isinstance(value, ast.Call):
            name = last_name(value)
            return name in LOGGING or name in CLEANUP or "log" in dotted(value.func).lower()
        return False
    if isinstance(statement, ast.Return):
        return statement.value is None or _plain(statement.value)
    if isinstance(statement, ast.Assign | ast.AnnAssign):
        return statement.value is not None and _plain(statement.value)
    return False


def _plain(value: ast.expr) -> bool:
    """None, a constant, an empty container, a name: a default, not a handled outcome."""
    if isinstance(value, ast.Constant | ast.Name):
        return True
    if isinstance(value, ast.List | ast.Tuple | ast.Set | ast.Dict):
        return not getattr(value, "elts", None) and not getattr(value, "keys", None)
    return False
