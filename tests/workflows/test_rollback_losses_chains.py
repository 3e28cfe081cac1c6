"""What a roll back loses over several versions: the version each loss is named with,
and what went and came back in between. Written with test_rollback_losses_table."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.workflows.loss_cases import (
    col_added,
    col_dropped,
    customer,
    ent,
    f,
    invoice,
    order,
    signin_added,
    signin_dropped,
    svc,
    table_added,
    table_dropped,
)
from workflows.data_loss import rollback_losses
from workflows.spec import Auth, ServiceSpec


def _cases():
    c = customer()
    o = order()

    # multi-version chains: the version the situation has held since
    yield pytest.param(
        [
            svc(1, customer(), o),
            svc(2, ent("Customer", f("name")), o),
            svc(3, ent("Customer", f("name"), f("phone")), o),
            svc(4, ent("Customer", f("name"), f("phone")), o),
        ],
        [col_dropped(2, "customers", "email"), col_added(3, "customers", "phone")],
        id="chain-drop-in-v2-and-add-in-v3-stay",
    )
    yield pytest.param(
        [
            svc(1, customer(), o),
            svc(2, ent("Customer", f("name")), o),
            svc(3, customer(), o),
            svc(4, customer(), o),
        ],
        # the v1 values went at v2; what was written since v3 goes now
        [col_dropped(2, "customers", "email"), col_added(3, "customers", "email")],
        id="chain-column-dropped-then-readded-loses-both",
    )
    yield pytest.param(
        [
            svc(1, customer(), o),
            svc(2, ent("Customer", f("name")), o),
            svc(3, customer(), o),
            svc(4, ent("Customer", f("name")), o),
        ],
        [col_dropped(2, "customers", "email")],  # v1's values went at v2, for good
        id="chain-column-dropped-readded-dropped-again",
    )
    yield pytest.param(
        [
            svc(1, c, o),
            svc(2, customer(f("tmp")), o),
            svc(3, c, o),
        ],
        [],
        id="chain-column-added-then-dropped",
    )
    yield pytest.param(
        [
            svc(1, c, o),
            svc(2, customer(f("phone")), o),
            svc(3, c, o),
            svc(4, customer(f("phone")), o),
        ],
        [col_added(4, "customers", "phone")],
        id="chain-column-added-dropped-readded",
    )
    yield pytest.param(
        [
            svc(1, c, o, invoice()),
            svc(2, c, o),
            svc(3, c, o, invoice()),
        ],
        [table_dropped(2, "invoices"), table_added(3, "invoices")],
        id="chain-table-dropped-then-readded-loses-both",
    )
    yield pytest.param(
        [
            svc(1, c, o),
            svc(2, c, o, invoice()),
            svc(3, c, o),
        ],
        [],
        id="chain-table-added-then-dropped",
    )
    yield pytest.param(
        [
            svc(1, c, o, invoice()),
            svc(2, c, o, invoice()),
            svc(3, c, o),
            svc(4, c, o),
        ],
        [table_dropped(3, "invoices")],
        id="chain-table-dropped-in-v3-stays-gone",
    )
    yield pytest.param(
        [
            svc(1, c, o),
            svc(2, c, o, invoice()),
            svc(3, c, o, invoice(f("amount", "decimal"), f("memo", "text"), f("due_on", "date"))),
        ],
        [table_added(2, "invoices")],
        id="chain-table-added-then-grows-names-only-the-table",
    )
    yield pytest.param(
        [
            svc(1, c, o, invoice(f("amount", "decimal"), f("memo", "text"))),
            svc(2, c, o),
            svc(3, c, o, invoice(f("amount", "decimal"))),
        ],
        # a table that went and came back loses all its rows, old and new
        [table_dropped(2, "invoices"), table_added(3, "invoices")],
        id="chain-table-readded-without-a-column-loses-the-table",
    )
    yield pytest.param(
        [
            svc(3, customer(), o),
            svc(4, customer(f("phone")), o),
            svc(5, ent("Customer", f("name"), f("phone")), o),
        ],
        [col_added(4, "customers", "phone"), col_dropped(5, "customers", "email")],
        id="chain-starting-at-v3-names-spec-versions",
    )

    # sign-in
    yield pytest.param(
        [svc(1, c, o), svc(2, c, o, auth=Auth.jwt)],
        [signin_added(2)],
        id="step-sign-in-added",
    )
    yield pytest.param(
        [svc(1, c, o, auth=Auth.oauth2), svc(2, c, o)],
        [signin_dropped(2)],
        id="step-sign-in-removed",
    )
    yield pytest.param(
        [
            svc(1, c, o),
            svc(2, c, o, auth=Auth.jwt),
            svc(3, c, o),
            svc(4, c, o, auth=Auth.oauth2),
        ],
        [signin_added(4)],
        id="chain-sign-in-added-removed-readded",
    )
    yield pytest.param(
        [
            svc(1, c, o),
            svc(2, c, o, auth=Auth.jwt),
            svc(3, c, o, auth=Auth.oauth2),
        ],
        [signin_added(2)],
        id="chain-sign-in-added-then-switched-held-since-v2",
    )
    yield pytest.param(
        [
            svc(1, c, o, auth=Auth.jwt),
            svc(2, c, o),
            svc(3, c, o, auth=Auth.jwt),
        ],
        [signin_dropped(2), signin_added(3)],
        id="chain-sign-in-removed-then-back-loses-both",
    )


CASES = list(_cases())


@pytest.mark.parametrize(("chain", "expected"), CASES)
def test_rollback_losses(chain: list[ServiceSpec], expected: list[str]) -> None:
    assert Counter(rollback_losses(chain)) == Counter(expected), sorted(rollback_losses(chain))
