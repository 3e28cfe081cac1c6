"""Checks no linter makes, read from the code's structure: one module per family, each a
`check(project) -> list[Issue]`."""

from __future__ import annotations

from . import (
    http_timeouts,
    indexes,
    list_limits,
    n_plus_one,
    route_auth,
    secrets,
    sql_strings,
    swallowed_errors,
)

ALL = (
    sql_strings.check,
    secrets.check,
    route_auth.check,
    list_limits.check,
    n_plus_one.check,
    indexes.check,
    http_timeouts.check,
    swallowed_errors.check,
)
