"""Identifiers for generated code and its migrations, from one place.

PostgreSQL cuts names at 63 characters and MySQL refuses names over 64, so a long table
or column would make the same model differ between databases or fail outright. Every
constraint and index name here includes its table (two relations with the same field
name on different tables must not collide: MySQL's errno 121) and is shortened, when
long, with a stable hash of the full name, so the models and every migration agree.
"""

from __future__ import annotations

import builtins
import hashlib
import keyword
import re

SERVICE_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
ENTITY_NAME = re.compile(r"^[A-Z][a-zA-Z0-9]{0,39}$")

LIMIT = 60  # under PostgreSQL's 63 and MySQL's 64, with room for a dialect's own suffix


def short(name: str) -> str:
    """`name` itself when it fits, else its start plus 8 hex of its hash: stable and unique."""
    if len(name) <= LIMIT:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: LIMIT - 9].rstrip('_')}_{digest}"


def unique_name(table: str, column: str) -> str:
    return short(f"uq_{table}_{column}")


def index_name(table: str, column: str) -> str:
    return short(f"ix_{table}_{column}")


def foreign_key_name(table: str, column: str, target_table: str) -> str:
    return short(f"fk_{table}_{column}_{target_table}")


# Identifiers that generated modules already use (imports, parameters, SQLAlchemy and
# pydantic attributes): a field with one of these names gets a trailing underscore in
# Python, and keeps its name in the API and the database.
GENERATED_CODE_NAMES = frozenset(
    {
        "date", "datetime", "dt", "decimal", "uuid", "json", "logging", "os", "time", "re",
        "sa", "orm", "jwt", "status", "select", "func", "text", "crud", "events", "models",
        "schemas", "settings", "session", "engine", "router", "app", "log", "row", "row_id",
        "body", "values", "filters", "payload", "client", "token", "strawberry", "info",
        "kind", "annotations", "metadata", "registry", "query", "field", "fields",
        "copy", "dict", "schema", "validate", "construct", "model", "typing", "self", "cls",
        "db",
    }
)  # fmt: skip


def python_name(name: str) -> str:
    """A name people gave, as a Python identifier that shadows nothing."""
    unsafe = (
        keyword.iskeyword(name)
        or keyword.issoftkeyword(name)
        or name in dir(builtins)
        or name in GENERATED_CODE_NAMES
        or name.startswith("model_")
    )
    return f"{name}_" if unsafe else name
