"""What a roll back loses, one step at a time: `rollback_losses` over two versions
(chains of more are test_rollback_losses_chains.py).

Each case is a chain of spec versions, oldest (what is put back) first, newest (what
serves now) last, and the sentences the roll back must name. Order is not part of the
contract, so the sentences are compared as multisets. Written from the contract by a
helper who had not read the code; a column or table that went and came back in between
loses both its old values and its new ones (the helper found that case).
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.workflows.loss_cases import (
    HASHED_ENTITY,
    HASHED_TABLE,
    LONG_ENTITY,
    LONG_FIELD,
    LONG_RELATION,
    LONG_TABLE,
    col_added,
    col_dropped,
    customer,
    ent,
    f,
    invoice,
    order,
    r,
    retyped,
    signin_added,
    svc,
    table_added,
    table_dropped,
)
from workflows.data_loss import rollback_losses
from workflows.spec import Auth, OnDelete, ServiceSpec


def _cases():
    c = customer()
    o = order()

    yield pytest.param([svc(1, c, o), svc(2, c, o)], [], id="identical-two-versions")
    yield pytest.param(
        [svc(1, c, o), svc(2, c, o), svc(3, c, o)], [], id="identical-three-versions"
    )

    # single steps: fields
    yield pytest.param(
        [svc(1, customer(), o), svc(2, ent("Customer", f("name")), o)],
        [col_dropped(2, "customers", "email")],
        id="step-field-dropped",
    )
    yield pytest.param(
        [svc(1, c, o), svc(2, customer(f("phone")), o)],
        [col_added(2, "customers", "phone")],
        id="step-field-added",
    )
    yield pytest.param(
        [
            svc(1, ent("Customer", f("name"), f("email", "email")), o),
            svc(2, ent("Customer", f("full_name"), f("email", "email")), o),
        ],
        [col_dropped(2, "customers", "name"), col_added(2, "customers", "full_name")],
        id="step-field-renamed",
    )

    # entities and relations
    yield pytest.param(
        [
            svc(1, customer(), order()),
            svc(
                2,
                ent("Client", f("name"), f("email", "email")),
                order(rels=(r("client", "Client"),)),
            ),
        ],
        [
            table_dropped(2, "customers"),
            table_added(2, "clients"),
            col_dropped(2, "orders", "customer_id"),
            col_added(2, "orders", "client_id"),
        ],
        id="step-entity-renamed-with-relation",
    )
    yield pytest.param(
        [svc(1, customer(), order()), svc(2, order(rels=()))],
        [table_dropped(2, "customers"), col_dropped(2, "orders", "customer_id")],
        id="step-entity-removed-with-relation-pointing-at-it",
    )
    yield pytest.param(
        [svc(1, customer(), order()), svc(2, customer())],
        [table_dropped(2, "orders")],
        id="step-entity-removed-holding-a-relation",
    )
    yield pytest.param(
        [svc(1, customer(), order(rels=())), svc(2, customer(), order())],
        [col_added(2, "orders", "customer_id")],
        id="step-relation-added",
    )
    yield pytest.param(
        [svc(1, customer(), order()), svc(2, customer(), order(rels=()))],
        [col_dropped(2, "orders", "customer_id")],
        id="step-relation-removed",
    )
    yield pytest.param(
        [
            svc(1, customer(), order(rels=(r("customer", "Customer"),))),
            svc(2, customer(), order(rels=(r("buyer", "Customer"),))),
        ],
        [col_dropped(2, "orders", "customer_id"), col_added(2, "orders", "buyer_id")],
        id="step-relation-renamed",
    )
    yield pytest.param(
        [
            svc(1, ent("Employee", f("name"))),
            svc(2, ent("Employee", f("name"), rels=(r("manager", "Employee"),))),
        ],
        [col_added(2, "employees", "manager_id")],
        id="step-self-relation-added",
    )

    # type changes
    yield pytest.param(
        [svc(1, c, order(f("quantity", "int"))), svc(2, c, order(f("quantity", "decimal")))],
        [retyped("orders", "quantity", "decimal", "int")],
        id="step-type-widened-int-to-decimal",
    )
    yield pytest.param(
        [svc(1, c, order(f("note", "text"))), svc(2, c, order(f("note", "str")))],
        [retyped("orders", "note", "str", "text")],
        id="step-type-narrowed-text-to-str",
    )
    yield pytest.param(
        [
            svc(1, c, order(f("quantity", "int"))),
            svc(2, c, order(f("quantity", "decimal"))),
            svc(3, c, order(f("quantity", "str"))),
        ],
        [retyped("orders", "quantity", "str", "decimal to int")],  # converted at each step
        id="chain-type-changed-twice-converts-through-each-type",
    )
    yield pytest.param(
        [
            svc(1, c, order(f("quantity", "int"))),
            svc(2, c, order(f("quantity", "str"))),
            svc(3, c, order(f("quantity", "int"))),
        ],
        [retyped("orders", "quantity", "int", "str to int")],  # "2.5" was never an int
        id="chain-type-changed-and-back-converts-twice",
    )
    yield pytest.param(
        [
            svc(1, c, order(f("quantity", "int"))),
            svc(2, c, order(f("quantity", "decimal", required=False, unique=True))),
        ],
        [retyped("orders", "quantity", "decimal", "int")],
        id="step-type-change-with-harmless-changes-names-only-the-type",
    )

    # changes that lose nothing
    yield pytest.param(
        [
            svc(
                1,
                ent("Customer", f("name"), f("email", "email"), f("status")),
                ent(
                    "Order",
                    f("total", "decimal"),
                    f("placed_on", "date"),
                    rels=(r("customer", "Customer"),),
                ),
            ),
            svc(
                2,
                # entities and fields listed in another order, harmless attributes changed
                ent(
                    "Order",
                    f("placed_on", "date", required=False),
                    f("total", "decimal", default="0.00"),
                    rels=(r("customer", "Customer", required=True, on_delete=OnDelete.cascade),),
                ),
                ent(
                    "Customer",
                    f("email", "email", unique=True),
                    f("status", choices=["active", "blocked"], default="active"),
                    f("name", required=False),
                ),
                description="a shop, now described",
            ),
        ],
        [],
        id="step-harmless-changes-lose-nothing",
    )
    yield pytest.param(
        [svc(1, c, o, auth=Auth.jwt), svc(2, c, o, auth=Auth.oauth2)],
        [],
        id="step-sign-in-switched-jwt-to-oauth2",
    )

    # several entities at once
    yield pytest.param(
        [
            svc(
                1,
                customer(),
                order(f("quantity", "int")),
                ent("Review", f("stars", "int"), rels=(r("order", "Order"),)),
            ),
            svc(
                2,
                ent("Customer", f("name")),
                order(f("quantity", "decimal"), f("note", "text")),
                ent("Product", f("title"), f("price", "decimal")),
                auth=Auth.jwt,
            ),
        ],
        [
            col_dropped(2, "customers", "email"),
            col_added(2, "orders", "note"),
            retyped("orders", "quantity", "decimal", "int"),
            table_dropped(2, "reviews"),
            table_added(2, "products"),
            signin_added(2),
        ],
        id="step-several-entities-at-once",
    )
    yield pytest.param(
        [
            svc(
                1,
                ent("Category", f("label")),
                ent("Box", f("size", "int"), rels=(r("category", "Category"),)),
            ),
            svc(
                2,
                ent("Address", f("street")),
                ent("Box", f("size", "int")),
                ent("Match", f("score", "int")),
            ),
        ],
        [
            table_dropped(2, "categories"),
            col_dropped(2, "boxes", "category_id"),
            table_added(2, "addresses"),
            table_added(2, "matches"),
        ],
        id="step-irregular-plural-table-names",
    )
    yield pytest.param(
        [
            svc(1, customer(), order(), invoice()),
            svc(2, customer(f("phone")), order(), invoice(), auth=Auth.jwt),
            svc(3, customer(f("phone")), order(rels=()), auth=Auth.jwt),
            svc(
                4,
                customer(f("phone")),
                order(rels=()),
                invoice(),
                ent("Coupon", f("code")),
                auth=Auth.jwt,
            ),
        ],
        [
            col_added(2, "customers", "phone"),
            signin_added(2),
            col_dropped(3, "orders", "customer_id"),
            table_dropped(3, "invoices"),
            table_added(4, "invoices"),
            table_added(4, "coupons"),
        ],
        id="chain-mixed-changes-across-four-versions",
    )

    # reserved and long-but-valid names: columns keep the names people gave
    yield pytest.param(
        [
            svc(1, ent("Ticket", f("type", "int"), f("import"))),
            svc(
                2,
                ent(
                    "Ticket",
                    f("type", "str"),
                    f("from", "date"),
                    f("class"),
                    f("model_number", "int"),
                ),
            ),
        ],
        [
            retyped("tickets", "type", "str", "int"),
            col_dropped(2, "tickets", "import"),
            col_added(2, "tickets", "from"),
            col_added(2, "tickets", "class"),
            col_added(2, "tickets", "model_number"),
        ],
        id="step-python-keyword-and-builtin-field-names",
    )
    yield pytest.param(
        [
            svc(1, ent("Query", f("text", "text"), f("date", "date")), ent("Status", f("json"))),
            svc(2, ent("Query", f("text", "str")), ent("Status", f("json"), f("select", "bool"))),
        ],
        [
            retyped("queries", "text", "str", "text"),
            col_dropped(2, "queries", "date"),
            col_added(2, "statuses", "select"),
        ],
        id="step-generated-code-names-as-fields-and-entities",
    )
    yield pytest.param(
        [
            svc(1, customer()),
            svc(
                2,
                customer(),
                ent(LONG_ENTITY, f(LONG_FIELD), rels=(r(LONG_RELATION, "Customer"),)),
            ),
        ],
        [table_added(2, LONG_TABLE)],
        id="step-long-entity-table-added",
    )
    yield pytest.param(
        [
            svc(1, customer(), ent(LONG_ENTITY, f("label"))),
            svc(
                2,
                customer(),
                ent(LONG_ENTITY, f(LONG_FIELD, "int"), rels=(r(LONG_RELATION, "Customer"),)),
            ),
            svc(
                3,
                customer(),
                ent(LONG_ENTITY, f(LONG_FIELD, "decimal"), rels=(r(LONG_RELATION, "Customer"),)),
            ),
        ],
        [
            col_dropped(2, LONG_TABLE, "label"),
            col_added(2, LONG_TABLE, LONG_FIELD),
            col_added(2, LONG_TABLE, f"{LONG_RELATION}_id"),
        ],
        id="chain-long-field-and-relation-columns",
    )
    yield pytest.param(
        [svc(1, customer(), ent(LONG_ENTITY, f("label"))), svc(2, customer())],
        [table_dropped(2, LONG_TABLE)],
        id="step-long-entity-table-dropped",
    )
    yield pytest.param(
        [
            svc(1, customer(), ent(HASHED_ENTITY, f("label"), f("size", "int"))),
            svc(2, customer(), ent(HASHED_ENTITY, f("label", "text"), f("weight", "int"))),
            svc(3, customer(), ent(HASHED_ENTITY, f("label", "text"), f("weight", "int"))),
        ],
        [
            retyped(HASHED_TABLE, "label", "text", "str"),
            col_dropped(2, HASHED_TABLE, "size"),
            col_added(2, HASHED_TABLE, "weight"),
        ],
        id="chain-hashed-table-name-columns-and-type",
    )
    yield pytest.param(
        [svc(1, customer()), svc(2, customer(), ent(HASHED_ENTITY, f("label")))],
        [table_added(2, HASHED_TABLE)],
        id="step-hashed-table-added",
    )


CASES = list(_cases())


@pytest.mark.parametrize(("chain", "expected"), CASES)
def test_rollback_losses(chain: list[ServiceSpec], expected: list[str]) -> None:
    assert Counter(rollback_losses(chain)) == Counter(expected), sorted(rollback_losses(chain))
