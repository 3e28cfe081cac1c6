"""Shipmate's own names in a generated service, kept clear of the names people give.

An entity may be called whatever its rule allows: Account, Class, Query, Metric, None.
Where one of its names (class, module, table, path, GraphQL type) would meet a name the
service uses for itself, the service's own name moves and the entity keeps its own. Only
GraphQL's scalars (String, Date) stay: an entity of that name is `DateRecord` there. A
service whose entities meet none of them keeps the names it always had, so the code and
the database of a service made before stay as they are (migrations move the accounts
table when an Account comes or goes: migration_steps.accounts).
"""

from __future__ import annotations

import itertools
import keyword

from workflows.identifiers import python_name
from workflows.spec import EntitySpec, ServiceSpec

# Modules every service has beside the router and the test module of each entity.
OWN_MODULES = frozenset(
    {"auth", "health", "graphql", "events", "audit", "logs", "privacy", "tracing"}
)

# Who may sign in. An entity's table is always a plural (it ends in s, or in a hash when
# it is long), so the table set aside never meets one.
ACCOUNTS_TABLE = "accounts"
ACCOUNTS_TABLE_ASIDE = "auth_account"

# Names GraphQL and the scalars of every service already hold.
GRAPHQL_OWN_TYPES = frozenset(
    {"Int", "Float", "String", "Boolean", "ID", "Date", "DateTime", "Decimal", "UUID"}
)


def free(preferred: str, taken: set[str], instead: str) -> str:
    """`preferred` when nothing holds it, else the first of instead, instead1, ... free."""
    if preferred not in taken:
        return preferred
    candidates = (f"{instead}{n or ''}" for n in itertools.count())
    return next(name for name in candidates if name not in taken)


def module(entity: EntitySpec) -> str:
    """The entity's router module (app/routers/<it>.py) and test module (tests/test_<it>):
    its snake_case name, with a trailing _ (which no snake_case name has) when that is a
    Python keyword or a module every service has."""
    snake = entity.snake
    return f"{snake}_" if keyword.iskeyword(snake) or snake in OWN_MODULES else snake


def model(entity_name: str) -> str:
    """The entity's SQLAlchemy class: its own name, unless that is a Python keyword (None,
    True, False) or a name linters refuse (I, O), which gets a trailing _ (no entity name
    has one; events still carry the entity's own)."""
    unfit = keyword.iskeyword(entity_name) or entity_name in ("I", "O")
    return f"{entity_name}_" if unfit else entity_name


def accounts_table(spec: ServiceSpec) -> str:
    """The table of accounts: `accounts`, unless an entity (Account) has that name."""
    tables = {entity.table for entity in spec.entities}
    return ACCOUNTS_TABLE_ASIDE if ACCOUNTS_TABLE in tables else ACCOUNTS_TABLE


def accounts_model(spec: ServiceSpec) -> str:
    """The class of accounts: Account, unless an entity has that name."""
    return free("Account", {model(entity.name) for entity in spec.entities}, "SignInAccount")


def audit_model(spec: ServiceSpec) -> str:
    """The class of the audit trail's entries: AuditEntry, unless an entity has that name
    (both live in one registry, where a relationship finds a class by its name)."""
    return free("AuditEntry", {model(entity.name) for entity in spec.entities}, "AuditTrailEntry")


def graphql_types(spec: ServiceSpec) -> dict[str, dict[str, str]]:
    """GraphQL type names: each entity's ("type", by its name), its input ("input", by
    `<name>Input`) and the roots ("root", by `Query` and `Mutation`). Entities come first:
    a root or an input gives way to an entity; only GraphQL's own scalars do not."""
    taken = set(GRAPHQL_OWN_TYPES)
    names: dict[str, dict[str, str]] = {"type": {}, "input": {}, "root": {}}
    wanted = [("type", e.name, e.name, f"{e.name}Record") for e in spec.entities]
    wanted += [("input", e.name, f"{e.name}Input", f"{e.name}CreateInput") for e in spec.entities]
    wanted += [("root", root, root, f"{root}Root") for root in ("Query", "Mutation")]
    for kind, key, preferred, instead in wanted:
        names[kind][key] = free(preferred, taken, instead)
        taken.add(names[kind][key])
    return names


def graphql_field(name: str) -> str:
    """The resolver of a GraphQL field (`classes`, `class`): a Python name that shadows
    nothing; the field keeps its own name."""
    return python_name(name)


def own_paths(spec: ServiceSpec) -> dict[str, str]:
    """Where the service's own pages are: /metrics and /docs, unless an entity (Metric,
    Doc) has that path; then one segment down, which no entity's path is."""
    paths = {entity.path for entity in spec.entities}
    return {
        "metrics": "/health/metrics" if "/metrics" in paths else "/metrics",
        "docs": "/openapi/docs" if "/docs" in paths else "/docs",
    }
