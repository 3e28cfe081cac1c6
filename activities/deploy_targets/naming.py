"""Names and labels of everything a deploy target makes, each carrying the installation id.

Two Shipmate installations may share a Docker engine, a PostgreSQL server or an AWS
account; every container, database, role and AWS resource is named after the
installation and labelled (or tagged) `managed-by=shipmate` with its service and
environment, so each installation finds, replaces and tears down only its own.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

from shipmate.settings import Settings

MANAGED_BY = "managed-by"
INSTALLATION = "shipmate.installation"
SERVICE = "shipmate.service"
ENVIRONMENT = "shipmate.environment"


def installation_id(settings: Settings) -> str:
    """The configured id, or one made once and kept in the state dir."""
    if settings.installation:
        return settings.installation
    path = settings.state_dir.resolve() / "installation-id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    made = secrets.token_hex(3)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:  # another activity made it first
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as out:
        out.write(made + "\n")
    return made


def resource_name(settings: Settings, service: str, environment: str, limit: int = 63) -> str:
    """`shipmate-<installation>-<service>-<environment>`, shortened with a hash past `limit`."""
    return _fit(f"shipmate-{installation_id(settings)}-{service}-{environment}", limit)


def database_identifier(settings: Settings, service: str, environment: str) -> str:
    """A database (and role) name every SQL server accepts: lower case, digits, underscores,
    at most 63 characters (PostgreSQL's limit; MySQL's users stop at 80, names at 64)."""
    plain = f"{service}_{environment}_{installation_id(settings)}".lower()
    return _fit(re.sub(r"[^a-z0-9_]", "_", plain), 63)


def labels(settings: Settings, service: str, environment: str) -> dict[str, str]:
    return {
        MANAGED_BY: "shipmate",
        INSTALLATION: installation_id(settings),
        SERVICE: service,
        ENVIRONMENT: environment,
    }


def label_filters(settings: Settings, service: str, environment: str) -> list[str]:
    """Docker `label=` filters that match exactly this installation's service and environment."""
    return [f"{key}={value}" for key, value in labels(settings, service, environment).items()]


def aws_tags(settings: Settings, service: str, environment: str, key: str = "Key") -> list:
    """The labels as AWS tags; ECS spells the fields `key`/`value`, everyone else `Key`/`Value`."""
    value = "Value" if key == "Key" else "value"
    return [{key: k, value: v} for k, v in labels(settings, service, environment).items()]


def aws_path(settings: Settings, service: str, environment: str) -> str:
    """`shipmate/<installation>/<service>/<environment>`: secrets and log groups."""
    return f"shipmate/{installation_id(settings)}/{service}/{environment}"


def secrets_file(settings: Settings, service: str, environment: str) -> Path:
    return settings.local_target_state / "secrets" / f"{service}-{environment}.json"


def _fit(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    kept = name[: limit - 9].rstrip("-")  # AWS refuses a double hyphen
    return f"{kept}-{digest}".replace("_-", "_")
