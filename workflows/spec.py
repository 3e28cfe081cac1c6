"""The service spec: what people asked for, typed and validated.

Every name in it ends up in file names, Python identifiers, SQL, image tags and AWS
resource names, so the validators here are the one gate hostile text must pass.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workflows.event_spec import ConsumerSpec, EventSpec, check_consumers
from workflows.identifiers import ENTITY_NAME, SERVICE_NAME, python_name, short
from workflows.permissions import Action, check_permissions
from workflows.privacy import Privacy, inferred

# No hyphen (and no underscore): resource names join installation, service and
# environment with `-` (database names with `_`), and a service name may hold a hyphen,
# so an environment without one keeps every pair's names apart (orders-api in staging,
# never orders in api-staging).
ENVIRONMENT_NAME = re.compile(r"[a-z][a-z0-9]{0,19}")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CHOICE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

# Names the API itself uses beside a row's fields: a field may not take them. Every other
# snake_case name works: Python keywords and builtins get a safe identifier in the code
# (`from` -> `from_`) while the API and the column keep the name people asked for.
RESERVED_FIELD_NAMES = frozenset({"id", "created_at", "updated_at", "offset", "limit", "sort"})


class FieldType(StrEnum):
    str = "str"
    text = "text"
    int = "int"
    float = "float"
    decimal = "decimal"
    bool = "bool"
    date = "date"
    datetime = "datetime"
    uuid = "uuid"
    email = "email"


class Api(StrEnum):
    rest = "rest"
    graphql = "graphql"
    grpc = "grpc"


class Database(StrEnum):
    postgresql = "postgresql"
    mysql = "mysql"
    sqlite = "sqlite"
    mongodb = "mongodb"
    dynamodb = "dynamodb"


class Auth(StrEnum):
    """How people sign in to the generated service."""

    jwt = "jwt"  # its own accounts and passwords, and tokens it signs itself
    oauth2 = "oauth2"  # the OAuth2 password flow: jwt's, kept for the services made with it
    oidc = "oidc"  # bearer tokens an OpenID Connect issuer signed; it keeps no passwords
    none = "none"

    @property
    def keeps_accounts(self) -> bool:
        """It stores accounts and password hashes (and has the table for them)."""
        return self in (Auth.jwt, Auth.oauth2)


class DeployTarget(StrEnum):
    local = "local"
    aws_ecs = "aws-ecs"
    aws_lambda = "aws-lambda"
    none = "none"


class FieldSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    type: FieldType = FieldType.str
    required: bool = True
    unique: bool = False
    # What rows that exist before this field was added get, as text ("0", "pending").
    default: str | None = None
    # The only values a str field takes ('pending', 'paid', 'shipped'); empty: any text.
    choices: list[str] = Field(default_factory=list)
    indexed: bool = False  # filters and sorts read an index (an optimization adds one)
    privacy: Privacy | None = None  # about a person (workflows/privacy.py); None: by its name

    @property
    def own_index(self) -> bool:
        """Asked for, not given by uniqueness, and not on TEXT (MySQL cannot index it whole)."""
        return self.indexed and not self.unique and self.type != FieldType.text

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not FIELD_NAME.fullmatch(value):
            raise ValueError(
                f"field name {value[:40]!r} must be snake_case: lowercase letters, digits and _, "
                "at most 40 characters"
            )
        if value in RESERVED_FIELD_NAMES:
            raise ValueError(f"field name {value!r} is reserved; pick another, e.g. {value}_value")
        return value

    @field_validator("choices")
    @classmethod
    def _plain_choices(cls, value: list[str]) -> list[str]:
        if value and not (2 <= len(value) <= 30 and len(set(value)) == len(value)):
            raise ValueError("a field takes 2 to 30 distinct choices")
        for choice in value:
            if not CHOICE.fullmatch(choice):
                raise ValueError(f"choice {choice[:40]!r} must be a short lowercase word")
        return value

    @model_validator(mode="after")
    def _default_fits(self) -> FieldSpec:
        if self.choices and self.type != FieldType.str:
            raise ValueError(f"{self.name} has choices, so it must be a str field")
        if self.default is not None and not default_fits(self.type, self.default):
            raise ValueError(
                f"default {self.default[:40]!r} for {self.name} is not a {self.type.value} value"
            )
        if self.default is not None and self.choices and self.default not in self.choices:
            raise ValueError(
                f"default {self.default[:40]!r} for {self.name} is not one of its choices "
                f"({', '.join(self.choices)})"
            )
        return self

    @property
    def attr(self) -> str:
        return python_name(self.name)


def default_fits(kind: FieldType, text: str) -> bool:
    """Whether `text` reads as a value of `kind`: a default must never break a row."""
    parse = {
        FieldType.int: int,
        FieldType.float: float,
        FieldType.decimal: Decimal,
        FieldType.date: dt.date.fromisoformat,
        FieldType.datetime: dt.datetime.fromisoformat,
        FieldType.uuid: uuid.UUID,
    }
    if kind == FieldType.bool:
        return text in ("true", "false")
    if kind == FieldType.email:
        return bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text))
    if kind in parse:
        try:
            parse[kind](text)
        except (ValueError, InvalidOperation):
            return False
    return len(text) <= 255 or kind == FieldType.text


class OnDelete(StrEnum):
    """What deleting a row does to the rows that point at it."""

    refuse = "refuse"  # 409 naming the dependants, on every database
    cascade = "cascade"  # the dependants go with it


class RelationSpec(BaseModel):
    """A many-to-one link: this entity holds a reference to `target`."""

    model_config = ConfigDict(frozen=True)

    name: str
    target: str
    required: bool = False
    on_delete: OnDelete = OnDelete.refuse

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        return FieldSpec._safe_name(value)

    @property
    def attr(self) -> str:
        return python_name(self.name)

    @property
    def column(self) -> str:
        return f"{self.name}_id"

    @property
    def column_attr(self) -> str:
        return python_name(self.column)


class EntitySpec(BaseModel):
    name: str
    fields: list[FieldSpec] = Field(default_factory=list)
    relations: list[RelationSpec] = Field(default_factory=list)
    permissions: dict[Action, list[str]] = Field(
        default_factory=dict, description="Roles an action is kept to (workflows/permissions)"
    )

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not ENTITY_NAME.fullmatch(value):
            raise ValueError(
                f"entity name {value[:40]!r} must be a PascalCase singular noun, like Order, "
                "at most 40 characters"
            )
        return value

    @model_validator(mode="after")
    def _distinct_fields(self) -> EntitySpec:
        names = [f.name for f in self.fields] + [r.name for r in self.relations]
        names += [r.column for r in self.relations]
        # `from_` beside `from` would be one Python name for two fields
        attrs = [f.attr for f in self.fields] + [r.attr for r in self.relations]
        attrs += [r.column_attr for r in self.relations]
        dupes = sorted({n for n in names if names.count(n) > 1})
        dupes += sorted({a for a in attrs if attrs.count(a) > 1 and a not in dupes})
        if dupes:
            raise ValueError(f"entity {self.name} has duplicate fields: {', '.join(dupes)}")
        return self

    @property
    def table(self) -> str:
        return table_name(self.name)

    @property
    def path(self) -> str:
        return "/" + self.table.replace("_", "-")

    @property
    def snake(self) -> str:
        return snake_case(self.name)

    def privacy_of(self, field: FieldSpec) -> Privacy:
        """What the spec says of the field, else what its name says on this entity."""
        if field.privacy is not None:
            return field.privacy
        return inferred(self.name, field.name, field.type.value)


def check_environment(env: str) -> str:
    """An environment name, or a ValueError saying what it must be."""
    if not ENVIRONMENT_NAME.fullmatch(env):
        raise ValueError(
            f"environment {env[:20]!r} must be one short lowercase word "
            "(letters and digits, no hyphen, at most 20)"
        )
    return env


class DeploySpec(BaseModel):
    target: DeployTarget = DeployTarget.local
    environments: list[str] = Field(default_factory=lambda: ["staging"])

    @field_validator("environments")
    @classmethod
    def _safe_envs(cls, value: list[str]) -> list[str]:
        for env in value:
            check_environment(env)
        if len(set(value)) != len(value):
            raise ValueError("environments are listed more than once")
        return value


class ServiceSpec(BaseModel):
    name: str
    description: str = ""
    stack: str = "fastapi"
    api: list[Api] = Field(default_factory=lambda: [Api.rest])
    database: Database = Database.postgresql
    auth: Auth = Auth.none
    roles: list[str] = Field(default_factory=list)
    entities: list[EntitySpec] = Field(default_factory=list)
    events: list[EventSpec] = Field(default_factory=list)
    consumers: list[ConsumerSpec] = Field(default_factory=list)
    deploy: DeploySpec = Field(default_factory=DeploySpec)
    version: int = 1

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not (3 <= len(value) <= 40) or not SERVICE_NAME.fullmatch(value):
            raise ValueError(
                f"service name {value[:40]!r} must be kebab-case, 3 to 40 characters, "
                "like orders-api"
            )
        return value

    @field_validator("stack")
    @classmethod
    def _known_stack(cls, value: str) -> str:
        if value != "fastapi":
            raise ValueError(f"stack {value[:20]!r} is not supported yet; fastapi is")
        return value

    @field_validator("roles")
    @classmethod
    def _safe_roles(cls, value: list[str]) -> list[str]:
        for role in value:
            if not FIELD_NAME.fullmatch(role):
                raise ValueError(f"role {role[:20]!r} must be a lowercase word")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ServiceSpec:
        names = [e.name for e in self.entities]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"entities listed twice: {', '.join(dupes)}")
        for entity in self.entities:
            for relation in entity.relations:
                if relation.target not in names:
                    raise ValueError(
                        f"{entity.name}.{relation.name} points at unknown entity {relation.target}"
                    )
        _distinct_api_names(self)
        for event in self.events:
            if event.entity not in names:
                raise ValueError(f"event for unknown entity {event.entity}")
        check_permissions(self)
        check_consumers(self)
        return self

    @property
    def image_repository(self) -> str:
        return self.name

    def personal_data(self) -> list[tuple[str, str, Privacy]]:
        """(entity, field, category) of every field about a person, in order."""
        return [
            (entity.name, field.name, kind)
            for entity in self.entities
            for field in entity.fields
            if (kind := entity.privacy_of(field)) != Privacy.none
        ]


def _distinct_api_names(spec: ServiceSpec) -> None:
    """No two entities with one path (Bus, Buse: /buses) or GraphQL field (the list of
    Buse, the one Buses); no sqlite_ table, which SQLite keeps to itself."""
    called: dict[str, str] = {}
    for entity in spec.entities:
        if spec.database == Database.sqlite and entity.table.startswith("sqlite_"):
            raise ValueError(f"SQLite keeps tables named sqlite_... itself; rename {entity.name}")
        for name in [entity.table] + ([entity.snake] if Api.graphql in spec.api else []):
            if (other := called.setdefault(name, entity.name)) != entity.name:
                raise ValueError(
                    f"entities {other} and {entity.name} are both {name!r}; rename one"
                )


def table_name(entity: str) -> str:
    """The entity's table: plural snake_case, shortened with a hash when a database would
    cut it."""
    return short(plural(snake_case(entity)))


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def plural(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"
