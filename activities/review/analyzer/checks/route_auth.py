"""Routes that change data without a sign-in check, and deletes any signed-in account may
make: the first lets anyone on the network write, the second lets any user destroy
what an admin should decide about."""

from __future__ import annotations

from ..sarif_runs import Issue
from ..source import Project
from .routes import routes

WHY_AUTH = (
    "Anyone who can reach the service can call this route and change data: no dependency "
    "checks who is asking. Add the service's sign-in dependency (e.g. "
    "`dependencies=[Depends(current_user)]`) to the route or its router."
)
WHY_ROLE = (
    "Every signed-in account can delete here, not only those who should: a role check "
    "(e.g. `Depends(require_role('admin'))`) keeps destructive actions to the people "
    "entitled to them."
)


def check(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for route in routes(project):
        if not route.changes_data or route.is_auth_flow:
            continue
        line = route.function.lineno
        if not route.authenticated:
            issues.append(
                Issue(
                    rule="write-without-auth",
                    severity="high",
                    path=route.module.path,
                    line=line,
                    message=f"{route.where} changes data with no sign-in check",
                    why=WHY_AUTH,
                )
            )
        elif "DELETE" in route.methods and not route.role_checked:
            issues.append(
                Issue(
                    rule="delete-without-role",
                    severity="medium",
                    path=route.module.path,
                    line=line,
                    message=f"{route.where} lets any signed-in account delete",
                    why=WHY_ROLE,
                )
            )
    return issues
