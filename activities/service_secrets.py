"""The secrets a generated service starts with, made by Shipmate and never shown.

Each deploy target keeps them in its own store (a 0600 file on the worker host for a
local container, Secrets Manager for ECS); what they are is decided once, here.
"""

from __future__ import annotations

import secrets


def new_service_secrets() -> dict[str, str]:
    """A JWT signing key and the first admin's sign-in, fresh for one service and environment."""
    return {
        "JWT_SECRET": secrets.token_urlsafe(32),
        "FIRST_ADMIN_USERNAME": "admin",
        "FIRST_ADMIN_PASSWORD": secrets.token_urlsafe(12),
    }


NOT_SECRET = frozenset({"FIRST_ADMIN_USERNAME"})


def secret_values(values: dict[str, str]) -> list[str]:
    """What a log tail must never show of a service's secrets: every value kept with them
    (the JWT secret, the first admin's password, the database password, any key an
    operator added) but the admin's user name."""
    return [
        value for key, value in values.items() if key not in NOT_SECRET and isinstance(value, str)
    ]
