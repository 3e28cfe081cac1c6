"""A generated service answers a person's requests about rows it shares with another
person: a transfer between two customers is in both exports, without the personal
fields (they may be the other's), and erasing one customer leaves it alone; a
required date of birth, which no value could mark as erased, is kept and said so."""

from __future__ import annotations

from activities.scaffold.generator import write_service
from tests.activities.test_scaffold import run_generated_tests
from workflows.spec import Auth, EntitySpec, FieldSpec, RelationSpec, ServiceSpec

BANK = ServiceSpec(
    name="bank-api",
    auth=Auth.jwt,
    entities=[
        EntitySpec(
            name="Customer",
            fields=[
                FieldSpec(name="email", type="email", unique=True),
                FieldSpec(name="date_of_birth", type="date"),
            ],
        ),
        EntitySpec(
            name="Transfer",
            fields=[
                FieldSpec(name="amount", type="decimal"),
                FieldSpec(name="recipient_name"),  # personal: the recipient's
            ],
            relations=[
                RelationSpec(name="sender", target="Customer"),
                RelationSpec(name="recipient", target="Customer", required=False),
            ],
        ),
    ],
)

SHARED = """
from tests.conftest import payload_customer


def customer(client, n):
    made = client.post("/customers", json=payload_customer(client, n))
    assert made.status_code == 201, made.text
    return made.json()


def transfer(client, sender, recipient, name):
    body = {"amount": "5.00", "recipient_name": name, "sender_id": sender["id"],
            "recipient_id": recipient["id"] if recipient else None}
    made = client.post("/transfers", json=body)
    assert made.status_code == 201, made.text
    return made.json()


def test_a_row_about_two_people_is_shown_without_personal_fields_and_kept(client):
    ada, bob = customer(client, 1), customer(client, 2)
    between = transfer(client, ada, bob, "Bob Brown")
    alone = transfer(client, ada, None, "Cash Desk")
    export = client.get(f"/privacy/customers/{ada['id']}/export").json()
    assert export["shared"] == {"Transfer": [between["id"]]}
    shown = {row["id"]: row for row in export["rows"]["Transfer"]}
    assert "recipient_name" not in shown[between["id"]] and shown[between["id"]]["amount"] == "5.00"
    assert shown[alone["id"]] == alone
    erased = client.post(f"/privacy/customers/{ada['id']}/erase").json()
    assert erased["erased"] == {"Customer": [ada["id"]], "Transfer": [alone["id"]]}
    assert erased["kept"] == {"Customer": ["date_of_birth"]}
    assert client.get(f"/transfers/{between['id']}").json() == between  # Bob's as well
    assert client.get(f"/transfers/{alone['id']}").json()["recipient_name"] == "erased"
    kept = client.get(f"/customers/{ada['id']}").json()
    assert kept["date_of_birth"] == ada["date_of_birth"] and kept["email"] != ada["email"]
    assert client.get(f"/customers/{bob['id']}").json() == bob
    bobs = client.get(f"/privacy/customers/{bob['id']}/export").json()
    assert bobs["shared"] == {"Transfer": [between["id"]]}
"""


def test_rows_shared_with_another_person_are_theirs_too(tmp_path):
    project = tmp_path / "bank"
    write_service(BANK, project)
    (project / "tests" / "test_shared_rows.py").write_text(SHARED)
    summary = run_generated_tests(project)
    assert "passed" in summary and "failed" not in summary, summary[-3000:]
