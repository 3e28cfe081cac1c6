"""Who may do what to an entity's rows: "only doctors can prescribe" as a rule the
generated service enforces, not a role name it merely stores.

An action an entity does not name keeps the default every generated service has: any
signed-in account reads, creates and updates, and only admins delete. An action it names
is open to those roles and to admin (the first account has it: someone can always manage
the service).
"""

from __future__ import annotations

from enum import StrEnum

ADMIN = "admin"


class Action(StrEnum):
    read = "read"
    create = "create"
    update = "update"
    delete = "delete"


DEFAULT = {Action.read: None, Action.create: None, Action.update: None, Action.delete: [ADMIN]}


def allowed(permissions: dict[Action, list[str]], action: Action) -> list[str] | None:
    """The roles an action is open to (admin first), or None: any signed-in account."""
    named = permissions.get(action, DEFAULT[action])
    if named is None:
        return None
    return [ADMIN, *sorted({r for r in named if r != ADMIN})]


def check_permissions(spec) -> None:  # a ServiceSpec (workflows.spec imports this)
    """A rule needs sign-in and names roles the service has."""
    known = {ADMIN, *spec.roles}
    for entity in spec.entities:
        if entity.permissions and spec.auth.value == "none":
            raise ValueError(
                f"who may {'/'.join(entity.permissions)} {entity.name} needs sign-in; "
                "add jwt or drop the rule"
            )
        for action, roles in entity.permissions.items():
            unknown = sorted(set(roles) - known)
            if unknown:
                raise ValueError(
                    f"{entity.name} {action} names role {unknown[0]!r}, which the service "
                    f"does not have (roles: {', '.join(sorted(known))})"
                )


def described(spec) -> list[str]:
    """Each rule in words, for the plan card: 'create Prescription: admin, doctor'."""
    return [
        f"{action.value} {entity.name}: {', '.join(allowed(entity.permissions, action) or [])}"
        for entity in spec.entities
        for action in Action
        if action in entity.permissions
    ]


def kept_actions(permissions: dict[Action, list[str]], roles: list[str]) -> list[dict]:
    """Each action kept to some roles, with the service's `roles` it lets through and the
    ones it refuses: what the generated tests try, one request per role."""
    kept = []
    for action in Action:
        open_to = allowed(permissions, action)
        if open_to is not None:
            refused = [r for r in roles if r not in open_to]
            kept.append({"action": action.value, "allowed": open_to, "refused": refused})
    return kept


def rules_diff(old, new) -> list[str]:
    """Each action whose roles changed between two versions, for the change's diff."""
    before = {e.name: e.permissions for e in old.entities}
    lines = []
    for entity in new.entities:
        for action in Action:
            was = allowed(before.get(entity.name, {}), action)
            now = allowed(entity.permissions, action)
            if entity.name in before and was != now:
                lines.append(f"~ {action.value} {entity.name}: {_who(was)} → {_who(now)}")
    return lines


def _who(roles: list[str] | None) -> str:
    return "any signed-in account" if roles is None else ", ".join(roles)
