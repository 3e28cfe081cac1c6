"""Defence in depth: a resource found under the name a deploy would use must be its own.

Names already keep pairs (installation, service, environment) apart by construction, but
a hand-made resource, a shared state dir or a bug in a name would otherwise hand one
pair's data, password or traffic to another. So whatever a deploy or a tear-down finds
already made is checked against its labels, tags or comment first; one that names
another pair is refused with both pairs named, and nothing is changed.
"""

from __future__ import annotations

import json

from activities.deploy_targets.base import DeployFailed
from activities.deploy_targets.naming import (
    ENVIRONMENT,
    INSTALLATION,
    MANAGED_BY,
    SERVICE,
    labels,
)
from shipmate.settings import Settings

PAIR = (INSTALLATION, SERVICE, ENVIRONMENT)
OF_INSTALLATION = (INSTALLATION,)  # the router, its volume: one per installation
OF_ENVIRONMENT = (INSTALLATION, ENVIRONMENT)  # an environment's load balancer


class NotOurs(DeployFailed):
    """What is under our name belongs to another pair; taking it over is never right."""


def pair_of(settings: Settings, service: str, environment: str) -> dict[str, str]:
    """The marker a database comment or a secrets file carries: the pair, as labels."""
    ours = labels(settings, service, environment)
    return {key: ours[key] for key in PAIR}


def require_ours(
    what: str,
    marks: dict | None,
    settings: Settings,
    service: str = "",
    environment: str = "",
    keys: tuple[str, ...] = PAIR,
) -> None:
    """Refuse `what` unless its labels or tags name this pair (or the part in `keys`)."""
    ours = labels(settings, service, environment)
    marks = marks or {}
    if marks.get(MANAGED_BY) == "shipmate" and all(marks.get(k) == ours[k] for k in keys):
        return
    raise NotOurs(_refusal(what, {MANAGED_BY: "", **marks}, ours, keys))


def ours_or_unmarked(
    what: str, marks: dict | None, settings: Settings, service: str, environment: str
) -> bool:
    """For what an older Shipmate made without a marker (a database, a secrets file):
    True when `marks` name this pair, False when there are none (the caller marks it),
    and a refusal when they name another pair."""
    if not marks:
        return False
    if not isinstance(marks, dict):  # a marker no Shipmate wrote
        marks = {"marker": "not Shipmate's"}
    ours = pair_of(settings, service, environment)
    if all(marks.get(key) == ours[key] for key in PAIR):
        return True
    raise NotOurs(_refusal(what, marks, {**ours, MANAGED_BY: "shipmate"}, PAIR))


def parse_comment(comment: str | None) -> dict | None:
    """A database comment as the pair it names: None when empty (an older Shipmate's),
    and a mark naming nobody when it is someone else's text, so it is refused."""
    if not comment or not comment.strip():
        return None
    try:
        marks = json.loads(comment)
    except ValueError:
        marks = None
    return marks if isinstance(marks, dict) else {"comment": "not Shipmate's"}


def comment_for(settings: Settings, service: str, environment: str) -> str:
    return json.dumps(pair_of(settings, service, environment), sort_keys=True)


def _refusal(what: str, marks: dict, ours: dict, keys: tuple[str, ...]) -> str:
    return (
        f"refused: {what} already exists and belongs to {_whose(marks, keys)}, not to "
        f"{_whose(ours, keys)}; I changed nothing. Delete or rename it if it is left over, "
        "or check SHIPMATE_INSTALLATION"
    )


def _whose(marks: dict, keys: tuple[str, ...]) -> str:
    """A pair in words: `service orders-api in staging of installation a1b2c3`."""
    if not any(marks.get(key) for key in PAIR):
        return "nothing Shipmate made (it names no Shipmate installation)"
    if marks.get(MANAGED_BY, "shipmate") != "shipmate":  # "": a label missing
        return f"something managed by {marks[MANAGED_BY] or 'nobody (no managed-by label)'}"
    installation, service, environment = (marks.get(key) or "(none)" for key in PAIR)
    if SERVICE in keys:
        return f"service {service} in {environment} of installation {installation}"
    if ENVIRONMENT in keys:
        return f"the {environment} environment of installation {installation}"
    return f"installation {installation}"
