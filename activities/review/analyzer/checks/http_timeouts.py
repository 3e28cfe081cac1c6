"""Outbound HTTP without a timeout: `requests` (and `urllib`) wait forever by default, so one
slow partner holds a worker, then all of them. httpx has a 5 s default, which is rarely
the one meant: it is reported too, lower."""

from __future__ import annotations

import ast

from ..patches import add_keyword
from ..sarif_runs import Issue
from ..source import Project
from .common import imports, keyword, resolved

VERBS = {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream"}
WAITS_FOREVER = (
    {f"requests.{verb}" for verb in VERBS}
    | {f"requests.api.{verb}" for verb in VERBS}
    | {"urllib.request.urlopen"}
)
IMPLICIT_DEFAULT = {f"httpx.{verb}" for verb in VERBS} | {"httpx.Client", "httpx.AsyncClient"}
WHY = (
    "With no timeout the call waits as long as the other side keeps the connection open: "
    "a slow or hung partner holds this worker, then every worker, and the service stops "
    "answering. Say how long it may take."
)
WHY_HTTPX = (
    "httpx falls back to its 5 s default here: a deliberate timeout (shorter for a health "
    "check, longer for an upload) documents what the call may cost."
)


def check(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for module in project.modules:
        if module.is_test:
            continue
        names = imports(module.tree)
        if not any(
            value.split(".")[0] in ("requests", "httpx", "urllib") for value in names.values()
        ):
            continue
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Call) or keyword(node, "timeout") is not None:
                continue
            callee = resolved(node, names)
            if callee == "urllib.request.urlopen" and len(node.args) >= 3:
                continue  # urlopen(url, data, timeout)
            if callee in WAITS_FOREVER:
                severity, why = "medium", WHY
            elif callee in IMPLICIT_DEFAULT:
                severity, why = "low", WHY_HTTPX
            else:
                continue
            issues.append(
                Issue(
                    rule="http-without-timeout",
                    severity=severity,
                    path=module.path,
                    line=node.lineno,
                    column=node.col_offset + 1,
                    message=f"`{callee}(...)` has no timeout",
                    why=why,
                    patch=add_keyword(module.path, module.text, node, "timeout=10"),
                )
            )
    return issues
