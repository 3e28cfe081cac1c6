"""What a roll back loses, said before anyone approves it.

A roll back runs the newer version's own `alembic downgrade`. Whatever a version in
between dropped (a column, a table, the accounts) comes back empty: that data cannot
come back. Whatever the newer versions added goes with its values, and a column whose
type changed is converted back. None of it may happen silently: the rollback's card
names each loss, and its gate opens only to an approver who confirms them (the button
that names the loss, or `--accept-data-loss`). Pure functions over the spec chain, so
the service and the delivery's validator agree, and replay gives the same answer.
"""

from __future__ import annotations

from collections.abc import Callable

from workflows.spec import Auth, EntitySpec, ServiceSpec

BACKUP = "restore a backup instead"


def rollback_losses(chain: list[ServiceSpec]) -> list[str]:
    """One sentence per loss of putting chain[0]'s schema back under chain[-1]; `chain`
    is every spec version from the older to the newer, oldest first.

    Whatever the older version has that did not last through every version since comes
    back empty; whatever serves now that has not lasted since the older version goes
    with its values (a column dropped in v2 and added again in v3 is both); a column
    that lasted but changed type on the way is converted back through each type."""
    older, newer = chain[0], chain[-1]
    losses = []
    signed_in = [s.auth.keeps_accounts for s in chain]  # an OIDC service keeps no accounts
    if signed_in[-1] and not all(signed_in):
        added = _since(chain, lambda s: s.auth.keeps_accounts)
        losses.append(f"v{added} added sign-in: the accounts table goes, with every account")
    if signed_in[0] and not all(signed_in):
        dropped = next(s for s in chain[1:] if not s.auth.keeps_accounts)
        how = "moved sign-in to its issuer" if dropped.auth == Auth.oidc else "dropped sign-in"
        losses.append(f"v{dropped.version} {how}: its accounts cannot come back")
    for entity in older.entities:
        lasted = all(_entity(s, entity.name) is not None for s in chain)
        if lasted:
            losses += _column_losses(chain, entity.name)
        else:
            dropped = _first(chain, lambda s, n=entity.name: _entity(s, n) is None)
            losses.append(f"v{dropped} dropped the {entity.table} table: its rows cannot come back")
    kept = {e.name for e in older.entities}
    for entity in newer.entities:
        if entity.name in kept and all(_entity(s, entity.name) is not None for s in chain):
            continue
        added = _since(chain, lambda s, n=entity.name: _entity(s, n) is not None)
        losses.append(f"v{added} added the {entity.table} table: it goes, with its rows")
    return losses


def change_losses(before: ServiceSpec, after: ServiceSpec) -> list[str]:
    """One sentence per table, column or sign-in that a change from `before` to `after`
    drops with its data: a new request under a running service's name, or "remove the
    note field", is said before anyone approves it."""
    losses = []
    if before.auth.keeps_accounts and not after.auth.keeps_accounts:
        how = "moves sign-in to its issuer" if after.auth == Auth.oidc else "drops sign-in"
        losses.append(f"{how}: the accounts table goes, with every account")
    for entity in before.entities:
        kept = _entity(after, entity.name)
        if kept is None:
            losses.append(f"drops the {entity.table} table, with its rows")
            continue
        now = {f.name for f in kept.fields} | {r.column for r in kept.relations}
        for column in [f.name for f in entity.fields] + [r.column for r in entity.relations]:
            if column not in now:
                losses.append(f"drops {entity.table}.{column}, with its values")
    return losses


def refusal(service: str, environment: str, losses: list[str], changing: bool = False) -> str:
    """Why a plain approval (or a gate-less environment) does not roll back, or does not
    make a change that drops data."""
    lost = "; ".join(losses)
    confirm = (
        "approve with the button that names the loss (or `shipmate approve … --accept-data-loss`)"
    )
    if changing:
        return (
            f"changing {service} in {environment} loses data: {lost}. That data cannot "
            f"come back: if it is meant, {confirm}; if not, reject it and ask again"
        )
    return (
        f"rolling {service} back in {environment} loses data: {lost}. That data cannot "
        f"come back: {BACKUP}, or {confirm}"
    )


def _column_losses(chain: list[ServiceSpec], name: str) -> list[str]:
    """The losses in one table that every version of the chain has."""
    tables = [_entity(s, name) for s in chain]
    table, losses = tables[-1].table, []

    def columns(entity) -> dict[str, str]:
        """column -> its type (a relation's column holds ids)"""
        found = {f.name: f.type.value for f in entity.fields}
        return found | {r.column: "id" for r in entity.relations}

    each = [columns(entity) for entity in tables]
    for column in each[0]:
        if not all(column in version for version in each):
            dropped = _first(chain, lambda s, c=column: c not in columns(_entity(s, name)))
            losses.append(f"v{dropped} dropped {table}.{column}: its values cannot come back")
    for column in each[-1]:
        if column in each[0] and all(column in version for version in each):
            types = [version[column] for version in each]
            if len(set(types)) > 1:
                back: list[str] = []
                for kind in reversed(types):  # newest first, each change once
                    if not back or back[-1] != kind:
                        back.append(kind)
                losses.append(
                    f"{table}.{column} goes back from {' to '.join(back)}: values that do "
                    "not fit are converted"
                )
            continue
        added = _since(chain, lambda s, c=column: c in columns(_entity(s, name)))
        losses.append(f"v{added} added {table}.{column}: it goes, with its values")
    return losses


def _entity(spec: ServiceSpec, name: str) -> EntitySpec | None:
    return next((e for e in spec.entities if e.name == name), None)


def _first(chain: list[ServiceSpec], holds: Callable[[ServiceSpec], bool]) -> int:
    """The first version after the oldest for which `holds` is true."""
    return next(s.version for s in chain[1:] if holds(s))


def _since(chain: list[ServiceSpec], holds: Callable[[ServiceSpec], bool]) -> int:
    """The version from which `holds` is true through the newest: the one that made it so."""
    version = chain[-1].version
    for spec in reversed(chain[1:]):
        if not holds(spec):
            break
        version = spec.version
    return version
