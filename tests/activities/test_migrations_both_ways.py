"""Generated migrations go back as well as forward, on SQLite, PostgreSQL and MariaDB.

Each version's schema is what its spec says (columns, unique constraints, foreign keys
and what deleting a parent does, indexes on references), the rows survive every step
up and down, and a migration that existing rows would break stops before changing
anything, saying why and what to do.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from activities.scaffold.generator import write_service
from tests.activities.migration_checks import (
    assert_schema_is,
    insert,
    matches_the_models,
    migrate,
    refused,
    rows,
    schema,
    utc,
    version,
)
from workflows.spec import Auth, EntitySpec, FieldSpec, RelationSpec, ServiceSpec


def walk() -> list[ServiceSpec]:
    """v2 changes types (str to text and date, int to decimal), fills a column made
    required, adds fields, an entity and two relations, and indexes a field (as an
    optimization's Apply does) and a new one; v3 drops a required field, an optional
    indexed one, a relation and its entity, moves an index to another field, and makes
    the customer required and deleting one take their orders along."""
    customer = EntitySpec(
        name="Customer",
        fields=[
            FieldSpec(name="name"),
            FieldSpec(name="email", type="email", unique=True),
            FieldSpec(name="bio", required=False),
            FieldSpec(name="since", required=False),
            FieldSpec(name="nickname"),
        ],
    )
    order = EntitySpec(
        name="Order",
        fields=[
            FieldSpec(name="total", type="decimal"),
            FieldSpec(name="qty", type="int"),
            FieldSpec(name="status", required=False),
        ],
    )
    v1 = ServiceSpec(name="shop-api", auth=Auth.jwt, entities=[customer, order])
    customer2 = customer.model_copy(
        update={
            "fields": [
                FieldSpec(name="name", unique=True),
                customer.fields[1],
                FieldSpec(name="bio", type="text", required=False),
                FieldSpec(name="since", type="date", required=False),
                customer.fields[4],
            ]
        }
    )
    order2 = order.model_copy(
        update={
            "fields": [
                order.fields[0],
                FieldSpec(name="qty", type="decimal"),
                FieldSpec(name="status", default="new", indexed=True),
                FieldSpec(name="note", required=False, indexed=True),
                FieldSpec(name="placed_on", type="date", default="2024-05-01"),
                FieldSpec(name="paid", type="bool"),
            ],
            "relations": [
                RelationSpec(name="customer", target="Customer"),
                RelationSpec(name="product", target="Product"),
            ],
        }
    )
    product = EntitySpec(
        name="Product", fields=[FieldSpec(name="sku", unique=True), FieldSpec(name="price")]
    )
    v2 = v1.model_copy(update={"entities": [customer2, order2, product], "version": 2})
    customer3 = customer2.model_copy(update={"fields": customer2.fields[:4]})
    moved = {"status": {"indexed": False}, "qty": {"indexed": True}}
    order3 = order2.model_copy(
        update={
            "fields": [
                f.model_copy(update=moved.get(f.name, {}))
                for f in order2.fields
                if f.name != "note"
            ],
            "relations": [
                RelationSpec(name="customer", target="Customer", required=True, on_delete="cascade")
            ],
        }
    )
    v3 = v2.model_copy(update={"entities": [customer3, order3], "version": 3})
    return [v1, v2, v3]


def test_up_three_versions_and_back_down_to_nothing_keeps_the_rows(tmp_path, database, engine):
    v1, v2, v3 = walk()
    project = tmp_path / "shop"
    enforced = engine.dialect.name != "sqlite"  # SQLite checks keys only when asked to

    write_service(v1, project)
    migrate(project, database, "upgrade", "head")
    assert_schema_is(engine, v1)
    ada = {"name": "Ada", "email": "ada@example.com", "bio": "tea", "since": "1990-04-01"}
    ada = insert(engine, "customers", **ada, nickname="a")
    insert(engine, "orders", total="12.50", qty=3, status=None)
    insert(engine, "orders", total="5.00", qty=1, status="paid")

    write_service(v2, project)
    migrate(project, database, "upgrade", "head")
    assert_schema_is(engine, v2)
    assert rows(engine, "orders", "qty", "status", "placed_on", "paid") == [
        (3, "new", dt.date(2024, 5, 1), False),
        (1, "paid", dt.date(2024, 5, 1), False),
    ]
    assert rows(engine, "customers", "name", "bio", "since") == [
        ("Ada", "tea", dt.date(1990, 4, 1))
    ]
    product = insert(engine, "products", sku="A-1", price="2.50")
    with engine.begin() as db:
        orders = sa.table("orders", sa.column("customer_id"), sa.column("product_id"))
        db.execute(orders.update().values(customer_id=ada, product_id=product))

    write_service(v3, project)
    migrate(project, database, "upgrade", "head")
    assert_schema_is(engine, v3)
    matches_the_models(project, database)
    assert rows(engine, "orders", "customer_id", "status") == [(ada, "new"), (ada, "paid")]
    if enforced:  # deleting a customer now takes their orders along
        bob = insert(engine, "customers", name="Bob", email="bob@example.com")
        order = {"total": 1, "qty": 1, "status": "x", "placed_on": dt.date.today(), "paid": True}
        insert(engine, "orders", **order, customer_id=bob)
        with engine.begin() as db:
            db.execute(sa.text("DELETE FROM customers WHERE name = 'Bob'"))
    assert len(rows(engine, "orders", "id")) == 2

    migrate(project, database, "downgrade", "v0002")
    assert_schema_is(engine, v2)
    assert rows(engine, "products", "sku") == []  # the table is back, its rows are not
    assert rows(engine, "customers", "name", "nickname") == [("Ada", "")]
    assert rows(engine, "orders", "customer_id", "product_id") == [(ada, None), (ada, None)]
    if enforced:  # and deleting a customer with orders is refused again
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as db:
            db.execute(sa.text("DELETE FROM customers"))

    migrate(project, database, "downgrade", "v0001")
    assert_schema_is(engine, v1)
    assert rows(engine, "orders", "total", "qty", "status") == [
        (Decimal("12.50"), 3, "new"),
        (Decimal("5.00"), 1, "paid"),
    ]
    assert rows(engine, "customers", "name", "email", "since") == [
        ("Ada", "ada@example.com", "1990-04-01")
    ]

    migrate(project, database, "downgrade", "base")
    assert_schema_is(engine, None)


def test_rows_a_change_would_break_stop_it_before_anything_changes(tmp_path, database, engine):
    """Each refusal names the table, the rows and what to do; the database stays at v1
    (PostgreSQL rolls back, and every check runs before the first change anyway)."""
    customer = EntitySpec(
        name="Customer",
        fields=[FieldSpec(name="name"), FieldSpec(name="email", type="email", required=False)],
    )
    v1 = ServiceSpec(name="crm-api", entities=[customer])
    project = tmp_path / "crm"
    write_service(v1, project)
    migrate(project, database, "upgrade", "head")
    insert(engine, "customers", name="Ada")
    insert(engine, "customers", name="Ada")

    def v2(*fields: FieldSpec, name: FieldSpec = customer.fields[0]) -> ServiceSpec:
        changed = customer.model_copy(update={"fields": [name, customer.fields[1], *fields]})
        return v1.model_copy(update={"entities": [changed], "version": 2})

    refusals = {
        "Cannot add the required field contact (email) to customers: the table has 2 "
        "row(s) and there is no value for them. Give contact a default (e.g. `default "
        "ops@example.com`) or make it optional.": v2(FieldSpec(name="contact", type="email")),
        "Cannot make customers.name unique: these values are on more than one row: "
        "'Ada' (2 rows).": v2(name=FieldSpec(name="name", unique=True)),
        "Cannot make customers.code unique: its default 'C-1' would be the value of 2 rows.": v2(
            FieldSpec(name="code", unique=True, default="C-1")
        ),
    }
    for message, spec in refusals.items():
        write_service(spec, project)
        assert message in refused(project, database)
        assert version(engine) == "v0001"
        assert_schema_is(engine, v1)  # nothing half done, on MariaDB too

    write_service(v2(FieldSpec(name="contact", type="email", default="ops@example.com")), project)
    migrate(project, database, "upgrade", "head")
    assert rows(engine, "customers", "contact") == [("ops@example.com",)] * 2
    assert schema(engine)["customers"]["columns"]["contact"] is False  # and no server default

    required = FieldSpec(name="email", type="email")
    v3 = v1.model_copy(
        update={
            "entities": [customer.model_copy(update={"fields": [customer.fields[0], required]})],
            "version": 3,
        }
    )
    write_service(v3, project)
    assert "Cannot make customers.email required: 2 row(s) have no value." in refused(
        project, database
    )
    assert version(engine) == "v0002"


LONG_ENTITY = "PurchaseOrderLineItemTaxAdjustmentRecord"
LONG_FIELD = "customs_declaration_reference_identifier"
LONG_TOO = "preferred_delivery_window_start_local_ts"
LONG_RELATION = "originating_purchase_order_line_items"  # its column is 40 characters


def test_reserved_words_and_long_names_migrate_both_ways(tmp_path, database, engine):
    assert len(LONG_ENTITY) == len(LONG_FIELD) == len(LONG_TOO) == len(LONG_RELATION) + 3 == 40
    words = [FieldSpec(name=n) for n in ("from", "type")] + [
        FieldSpec(name="order", type="int"),
        FieldSpec(name="group", required=False),
        FieldSpec(name=LONG_FIELD, unique=True),
    ]
    # each points at the other: one key waits until both tables exist
    to_select = RelationSpec(name="select", target="Select")
    long = EntitySpec(name=LONG_ENTITY, fields=words, relations=[to_select])
    select = EntitySpec(
        name="Select",
        fields=[FieldSpec(name="where")],
        relations=[RelationSpec(name="record", target=LONG_ENTITY)],
    )
    v1 = ServiceSpec(name="words-api", entities=[select, long])
    long2 = long.model_copy(
        update={
            "fields": [
                words[0],
                FieldSpec(name="type", unique=True),
                FieldSpec(name="order", type="decimal"),
                FieldSpec(name="group", default="g"),
                words[4],
                FieldSpec(name="desc", type="bool"),
                FieldSpec(name=LONG_TOO, type="datetime", default="2024-05-01T12:00:00+02:00"),
            ],
            "relations": [
                to_select,
                RelationSpec(name=LONG_RELATION, target=LONG_ENTITY, on_delete="cascade"),
            ],
        }
    )
    v2 = v1.model_copy(update={"entities": [select, long2], "version": 2})
    table = long.table
    project = tmp_path / "words"

    write_service(v1, project)
    migrate(project, database, "upgrade", "head")
    assert_schema_is(engine, v1)
    here = insert(engine, "selects", where="here")
    for n in (1, 2):
        row = {"from": f"f{n}", "type": f"t{n}", "order": n, LONG_FIELD: f"r{n}", "select_id": here}
        insert(engine, table, **row)
    write_service(v2, project)
    migrate(project, database, "upgrade", "head")
    assert_schema_is(engine, v2)
    matches_the_models(project, database)
    filled = [
        (*row[:3], utc(row[3])) for row in rows(engine, table, "group", "order", "desc", LONG_TOO)
    ]
    assert filled == [("g", Decimal(n), False, dt.datetime(2024, 5, 1, 10, 0)) for n in (1, 2)]
    first = rows(engine, table, "id")[0][0]
    third = {"from": "f3", "type": "t3", "order": 3, "group": "h", LONG_FIELD: "r3"}
    third |= {"desc": True, LONG_TOO: dt.datetime(2024, 1, 1), f"{LONG_RELATION}_id": first}
    insert(engine, table, **third)
    found = sa.inspect(engine)
    names = [table, *found.get_table_names()]
    for name in found.get_table_names():
        names += [c["name"] for c in found.get_columns(name)]
        names += [u["name"] for u in found.get_unique_constraints(name)]
        names += [k["name"] for k in found.get_foreign_keys(name)]
        names += [i["name"] for i in found.get_indexes(name)]
        names.append(found.get_pk_constraint(name)["name"] or "")
    assert max(map(len, names)) <= 63

    migrate(project, database, "downgrade", "v0001")
    assert_schema_is(engine, v1)
    assert rows(engine, table, "from", "order", "select_id") == [
        ("f1", 1, here),
        ("f2", 2, here),
        ("f3", 3, None),
    ]
    migrate(project, database, "downgrade", "base")
    assert_schema_is(engine, None)


def test_the_same_chain_gives_the_same_migrations():
    from activities.scaffold.migrations import migration_files

    assert migration_files(walk()) == migration_files(walk())
