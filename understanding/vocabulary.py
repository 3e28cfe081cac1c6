"""The words the rule parser knows: databases, types, environments and filler."""

from __future__ import annotations

from workflows.spec import Database, FieldType
from workflows.vocabulary import ENVIRONMENT_WORDS

MAX_REQUEST_CHARS = 4000


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DATABASES = {
    "postgresql": Database.postgresql,
    "postgres": Database.postgresql,
    "pg": Database.postgresql,
    "psql": Database.postgresql,
    "rds": Database.postgresql,
    "mysql": Database.mysql,
    "mariadb": Database.mysql,
    "sqlite": Database.sqlite,
    "mongodb": Database.mongodb,
    "mongo": Database.mongodb,
    "dynamodb": Database.dynamodb,
    "dynamo": Database.dynamodb,
}

TYPE_WORDS = {
    "str": FieldType.str,
    "string": FieldType.str,
    "varchar": FieldType.str,
    "text": FieldType.text,
    "int": FieldType.int,
    "integer": FieldType.int,
    "float": FieldType.float,
    "double": FieldType.float,
    "decimal": FieldType.decimal,
    "money": FieldType.decimal,
    "bool": FieldType.bool,
    "boolean": FieldType.bool,
    "flag": FieldType.bool,
    "date": FieldType.date,
    "datetime": FieldType.datetime,
    "timestamp": FieldType.datetime,
    "uuid": FieldType.uuid,
    "email": FieldType.email,
}

ENVIRONMENTS = ENVIRONMENT_WORDS  # one vocabulary, shared with the thread commands

# Words that describe the service, never a thing it manages.
FILLER = (
    _words("""
        a an the build create make write scaffold generate new me please simple small basic
        rest restful graphql grpc api apis service services microservice backend app
        application system crud management manager managing manage for with and or to of on
        in it then also deploy deployed auth jwt oauth oauth2 login database db fields field
        entities entity model models that which some our my we need needs want i us can could
        would should lets let quick tiny endpoint endpoints server up set hey hi shipmate
        using use via by is are be have has roles role admin admins ecs aws lambda fargate
        locally local docker container only where them their its this do all list quickly
        you your yours they he she what how why thanks thank
    """)
    | set(DATABASES)
    | set(ENVIRONMENTS)
    | set(TYPE_WORDS)
)

# Words that are never a field: they configure the service itself.
CONTROL = (
    _words("""
        graphql grpc rest jwt oauth oauth2 auth authentication api service deploy ecs aws
        lambda fargate fields field entities entity with using login roles can delete admins
        crud
    """)
    | set(DATABASES)
    | set(ENVIRONMENTS)
)

# Typos of these are corrected before matching ('postgress', 'grapql').
VOCABULARY = sorted(
    set(DATABASES)
    | set(TYPE_WORDS)
    | set(ENVIRONMENTS)
    | _words("graphql deploy entities fields unique optional required service management")
)

MODIFIERS = _words("unique optional required nullable")

IRREGULAR = {"movies": "movie", "people": "person", "children": "child", "series": "series"}

KNOWN_FIELDS: dict[str, list[tuple[str, FieldType]]] = {
    "Todo": [("title", FieldType.str), ("done", FieldType.bool)],
    "Task": [("title", FieldType.str), ("done", FieldType.bool)],
    "Order": [("customer", FieldType.str), ("total", FieldType.decimal), ("status", FieldType.str)],
    "User": [("email", FieldType.email), ("name", FieldType.str)],
    "Product": [("name", FieldType.str), ("price", FieldType.decimal)],
    "Customer": [("name", FieldType.str), ("email", FieldType.email)],
    "Note": [("title", FieldType.str), ("body", FieldType.text)],
    "Book": [("title", FieldType.str), ("author", FieldType.str)],
    "Invoice": [("number", FieldType.str), ("amount", FieldType.decimal)],
    "Post": [("title", FieldType.str), ("body", FieldType.text)],
    "Ticket": [("title", FieldType.str), ("status", FieldType.str)],
}
