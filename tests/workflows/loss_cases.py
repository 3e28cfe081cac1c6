"""Builders and sentences for the roll back loss tables (both test files use them):
spec versions made directly, and each loss worded exactly as the contract words it."""

from __future__ import annotations

from workflows.spec import (
    Auth,
    EntitySpec,
    FieldSpec,
    RelationSpec,
    ServiceSpec,
    plural,
    snake_case,
    table_name,
)

# --- builders ---------------------------------------------------------------------------


def f(name: str, type_: str = "str", **extra) -> FieldSpec:
    return FieldSpec(name=name, type=type_, **extra)


def r(name: str, target: str, **extra) -> RelationSpec:
    return RelationSpec(name=name, target=target, **extra)


def ent(name: str, *fields: FieldSpec, rels: tuple[RelationSpec, ...] = ()) -> EntitySpec:
    return EntitySpec(name=name, fields=list(fields), relations=list(rels))


def svc(version: int, *entities: EntitySpec, auth: Auth = Auth.none, **extra) -> ServiceSpec:
    return ServiceSpec(
        name="shop-api", version=version, auth=auth, entities=list(entities), **extra
    )


# --- sentences, exactly as the contract words them ---------------------------------------


def col_dropped(v: int, table: str, column: str) -> str:
    return f"v{v} dropped {table}.{column}: its values cannot come back"


def col_added(v: int, table: str, column: str) -> str:
    return f"v{v} added {table}.{column}: it goes, with its values"


def table_dropped(v: int, table: str) -> str:
    return f"v{v} dropped the {table} table: its rows cannot come back"


def table_added(v: int, table: str) -> str:
    return f"v{v} added the {table} table: it goes, with its rows"


def retyped(table: str, field: str, newer: str, older: str) -> str:
    return (
        f"{table}.{field} goes back from {newer} to {older}: values that do not fit are converted"
    )


def signin_added(v: int) -> str:
    return f"v{v} added sign-in: the accounts table goes, with every account"


def signin_dropped(v: int) -> str:
    return f"v{v} dropped sign-in: its accounts cannot come back"


# --- recurring entities -----------------------------------------------------------------


def customer(*extra: FieldSpec) -> EntitySpec:
    return ent("Customer", f("name"), f("email", "email"), *extra)


def order(
    *extra: FieldSpec, rels: tuple[RelationSpec, ...] = (r("customer", "Customer"),)
) -> EntitySpec:
    return ent("Order", f("total", "decimal"), f("placed_on", "date"), *extra, rels=rels)


def invoice(*fields: FieldSpec) -> EntitySpec:
    return ent("Invoice", *(fields or (f("amount", "decimal"), f("memo", "text"))))


# Long but valid names: a 40-character entity whose table is exactly 60 characters (the
# limit, kept whole), one whose table is shortened with a hash, a 40-character field and
# a 40-character relation (its column is 43 characters).
LONG_ENTITY = "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGhIjKlMn"  # 40 characters, PascalCase
LONG_TABLE = table_name(LONG_ENTITY)
HASHED_ENTITY = "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMN"  # 40 capitals: an 80-character table
HASHED_TABLE = table_name(HASHED_ENTITY)
LONG_FIELD = "a_really_long_but_perfectly_valid_name_x"  # 40 characters
LONG_RELATION = "the_customer_who_placed_this_very_order_"  # 40 characters
assert len(LONG_ENTITY) == 40 and len(LONG_FIELD) == 40 and len(LONG_RELATION) == 40
assert LONG_TABLE == plural(snake_case(LONG_ENTITY)) and len(LONG_TABLE) == 60  # kept whole
assert len(HASHED_TABLE) == 60 and HASHED_TABLE != plural(snake_case(HASHED_ENTITY))[:60]
