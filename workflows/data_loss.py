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
    is every spec version from the older to the newer, oldest first."""
    older, newer = chain[0], chain[-1]
    losses = []
    if older.auth == Auth.none and newer.auth != Auth.none:
        added = _since(chain, lambda s: s.auth != Auth.none)
        losses.append(f"v{added} added sign-in: the accounts table goes, with every account")
    if older.auth != Auth.none and newer.auth == Auth.none:
        dropped = _since(chain, lambda s: s.auth == Auth.none)
        losses.append(f"v{dropped} dropped sign-in: its accounts cannot come back")
    was = {e.name: e for e in older.entities}
    now = {e.name: e for e in newer.entities}
    for name, entity in was.items():
        if name not in now:
            dropped = _since(chain, lambda s, n=name: _entity(s, n) is None)
            losses.append(f"v{dropped} dropped the {entity.table} table: its rows cannot come back")
        else:
            losses += _column_losses(chain, entity, now[name])
    for name, entity in now.items():
        if name not in was:
            added = _since(chain, lambda s, n=name: _entity(s, n) is not None)
            losses.append(f"v{added} added the {entity.table} table: it goes, with its rows")
    return losses


def refusal(service: str, environment: str, losses: list[str]) -> str:
    """Why a plain approval (or a gate-less environment) does not roll back."""
    lost = "; ".join(losses)
    return (
        f"rolling {service} back in {environment} loses data: {lost}. That data cannot "
        f"come back: {BACKUP}, or approve with the button that names the loss "
        "(or `shipmate approve … --accept-data-loss`)"
    )


def _column_losses(chain: list[ServiceSpec], older: EntitySpec, newer: EntitySpec) -> list[str]:
    table, losses = newer.table, []
    old_fields = {f.name: f for f in older.fields}
    new_fields = {f.name: f for f in newer.fields}
    old_links = {r.name: r.column for r in older.relations}
    new_links = {r.name: r.column for r in newer.relations}

    def columns(spec: ServiceSpec) -> set[str]:
        entity = _entity(spec, newer.name)
        if entity is None:
            return set()
        return {f.name for f in entity.fields} | {r.column for r in entity.relations}

    for column in [n for n in old_fields if n not in new_fields] + [
        c for n, c in old_links.items() if n not in new_links
    ]:
        dropped = _since(chain, lambda s, c=column: c not in columns(s))
        losses.append(f"v{dropped} dropped {table}.{column}: its values cannot come back")
    for column in [n for n in new_fields if n not in old_fields] + [
        c for n, c in new_links.items() if n not in old_links
    ]:
        added = _since(chain, lambda s, c=column: c in columns(s))
        losses.append(f"v{added} added {table}.{column}: it goes, with its values")
    for name, field in new_fields.items():
        before = old_fields.get(name)
        if before is not None and before.type != field.type:
            losses.append(
                f"{table}.{name} goes back from {field.type.value} to {before.type.value}: "
                "values that do not fit are converted"
            )
    return losses


def _entity(spec: ServiceSpec, name: str) -> EntitySpec | None:
    return next((e for e in spec.entities if e.name == name), None)


def _since(chain: list[ServiceSpec], holds: Callable[[ServiceSpec], bool]) -> int:
    """The version from which `holds` is true through the newest: the one that made it so."""
    version = chain[-1].version
    for spec in reversed(chain[1:]):
        if not holds(spec):
            break
        version = spec.version
    return version
