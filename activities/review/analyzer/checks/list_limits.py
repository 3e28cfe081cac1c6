"""List endpoints with no limit: a GET that returns every row is fine with ten rows and
takes the service (and its database) down with ten million. A `limit`/`page` parameter
or a `.limit()` on the query bounds it."""

from __future__ import annotations

import ast
import re

from ..sarif_runs import Issue
from ..source import Project
from .common import dotted, is_db_call, keyword, last_name
from .routes import Route, routes

PAGING = re.compile(r"^(limit|page|per_page|page_size|size|offset|cursor|first|take|top|max)")
BOUNDING_CALLS = {"limit", "paginate", "fetchmany", "slice", "page", "first", "one", "get"}
WHY = (
    "The response holds every row of the table: as it grows, each call reads, serialises "
    "and sends more, until requests time out or memory runs out. Take a `limit` (with a "
    "maximum) and an `offset` or cursor, and apply them to the query."
)


def check(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for route in routes(project):
        if route.methods != {"GET"} and "GET" not in route.methods:
            continue
        if not _returns_rows(route) or _bounded(route):
            continue
        issues.append(
            Issue(
                rule="list-without-limit",
                severity="medium",
                path=route.module.path,
                line=route.function.lineno,
                message=f"{route.where} returns every row: no limit or page parameter",
                why=WHY,
            )
        )
    return issues


def _is_list(node: ast.AST | None) -> bool:
    if isinstance(node, ast.Subscript):
        return last_name(node.value) in ("list", "List", "Sequence", "Iterable")
    return isinstance(node, ast.Name) and node.id in ("list", "List")


def _returns_rows(route: Route) -> bool:
    function = route.function
    listed = _is_list(function.returns) or _is_list(keyword(route.decorator, "response_model"))
    reads = False
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            name = last_name(node)
            if name == "all" and not node.args:
                listed = reads = True
            if is_db_call(node) or name in ("select", "query", "scalars", "find", "filter"):
                reads = True
    return listed and reads


def _bounded(route: Route) -> bool:
    arguments = route.function.args
    for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
        if PAGING.match(arg.arg.lower()) or _is_paging_type(arg.annotation):
            return True
    for node in ast.walk(route.function):
        if isinstance(node, ast.Call) and last_name(node) in BOUNDING_CALLS and node.args:
            if last_name(node) != "get" or "session" in dotted(node.func).lower():
                return True
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            return True  # rows[:100]
    return False


def _is_paging_type(annotation: ast.AST | None) -> bool:
    """`params: Params = Depends()` of fastapi-pagination, `page: PageQuery` and the like."""
    name = dotted(annotation) if annotation is not None else ""
    return bool(re.search(r"(page|paging|pagination|params)", name, re.I))
