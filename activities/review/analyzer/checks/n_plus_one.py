"""N+1 loads: a loop over query results that runs a query per row (an explicit one, or
a lazy relationship read like `order.customer.name`). One page of 100 rows becomes 101
round trips; eager loading (`selectinload`, `joinedload`) or one joined query is one."""

from __future__ import annotations

import ast

from ..sarif_runs import Issue
from ..source import Project
from .common import dotted, is_db_call, last_name

RESULT_CALLS = {"all", "scalars", "execute", "fetchall", "query", "select", "filter", "filter_by"}
WRITES = {"add", "add_all", "delete", "merge", "commit", "flush", "expunge"}  # batched
EAGER = {"selectinload", "joinedload", "subqueryload", "immediateload", "contains_eager"}
WHY = (
    "Each row of the loop costs another round trip to the database: a page of 100 rows "
    "is 101 queries, and the endpoint slows down linearly with the data. Load the related "
    "rows with the first query (`.options(selectinload(Model.relation))`) or join them."
)


def check(project: Project) -> list[Issue]:
    relations = _relationships(project)
    issues: list[Issue] = []
    for module in project.modules:
        if module.is_test or module.is_migration:
            continue
        for scope in ast.walk(module.tree):
            if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            results = _result_names(scope)
            for loop, item, body in _loops(scope):
                if not _over_results(loop, results):
                    continue
                hit = _per_item_query(item, body, relations)
                if hit is not None:
                    node, what = hit
                    issues.append(
                        Issue(
                            rule="n-plus-one",
                            severity="medium",
                            path=module.path,
                            line=node.lineno,
                            column=node.col_offset + 1,
                            message=f"{what} runs once per row of the loop at line "
                            f"{loop.lineno}: an N+1 query",
                            why=WHY,
                        )
                    )
    return issues


def _relationships(project: Project) -> set[str]:
    """Attribute names declared as `relationship(...)` (or `backref=`) in any model."""
    names: set[str] = set()
    for module in project.modules:
        for node in ast.walk(module.tree):
            value = None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign):
                target, value = node.target, node.value
            if isinstance(value, ast.Call) and last_name(value) == "relationship":
                if isinstance(target, ast.Name):
                    names.add(target.id)
                for kw in value.keywords:
                    if kw.arg in ("backref", "back_populates"):
                        backref = kw.value
                        if isinstance(backref, ast.Constant) and kw.arg == "backref":
                            names.add(str(backref.value))
    return names


def _is_results(node: ast.AST | None) -> bool:
    """A query's rows: `session.query(X).all()`, `db.scalars(select(X))`, `X.query.all()`."""
    if not isinstance(node, ast.Call):
        return False
    if last_name(node) == "list" and node.args:
        return _is_results(node.args[0])
    if is_db_call(node) and last_name(node) in RESULT_CALLS:
        return not _eager(node)
    chain = dotted(node.func) if isinstance(node.func, ast.Attribute) else ""
    return chain.endswith(".query.all") or (
        last_name(node) == "all" and _is_results(getattr(node.func, "value", None))
    )


def _eager(node: ast.AST) -> bool:
    return any(isinstance(sub, ast.Call) and last_name(sub) in EAGER for sub in ast.walk(node))


def _result_names(function: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and _is_results(node.value):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _loops(function: ast.AST):
    """(loop node, loop variable name, body nodes) for `for` loops and comprehensions."""
    for node in ast.walk(function):
        if isinstance(node, ast.For | ast.AsyncFor) and isinstance(node.target, ast.Name):
            yield node, node.target.id, node.body
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            generator = node.generators[0]
            if isinstance(generator.target, ast.Name):
                parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
                parts += [test for g in node.generators for test in g.ifs]
                yield _Loop(node, generator.iter), generator.target.id, parts


class _Loop:
    """A comprehension seen as a loop: where it is and what it runs over."""

    def __init__(self, node: ast.AST, iterable: ast.expr):
        self.lineno, self.col_offset, self.iter = node.lineno, node.col_offset, iterable


def _over_results(loop, results: set[str]) -> bool:
    iterable = loop.iter
    if isinstance(iterable, ast.Name):
        return iterable.id in results
    return _is_results(iterable)


def _per_item_query(item: str, body: list, relations: set[str]):
    """The first node in the loop's body that queries per row, and how to name it."""
    for part in body:
        for node in ast.walk(part):
            if isinstance(node, ast.Call) and is_db_call(node) and last_name(node) not in WRITES:
                return node, f"`{dotted(node.func) or last_name(node)}(...)`"
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == item
                and node.attr in relations
            ):
                return node, f"`{item}.{node.attr}` (a lazy relationship)"
    return None
