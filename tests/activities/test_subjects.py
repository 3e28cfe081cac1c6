"""Whose data a generated service holds and what their export and erasure reach: the
rows that point at a subject, down the relations, never another person's rows; and what
an erased field holds on every type."""

from __future__ import annotations

from activities.scaffold.generator import write_service
from activities.scaffold.subjects import erased_value, subjects
from understanding import parse_request
from workflows.spec import Auth, EntitySpec, FieldSpec, RelationSpec, ServiceSpec


def entity(name: str, *fields: FieldSpec, to: tuple[str, ...] = ()) -> EntitySpec:
    relations = [RelationSpec(name=target.lower(), target=target) for target in to]
    return EntitySpec(name=name, fields=list(fields), relations=relations)


SHOP = ServiceSpec(
    name="shop-api",
    entities=[
        entity("Customer", FieldSpec(name="email", type="email")),
        entity("Order", FieldSpec(name="total", type="decimal"), to=("Customer",)),
        entity("OrderItem", FieldSpec(name="sku"), to=("Order",)),
        entity("Dependant", FieldSpec(name="full_name"), to=("Customer",)),
        entity("CustomerNote", FieldSpec(name="body", type="text"), to=("Customer",)),
        entity("Product", FieldSpec(name="title")),
    ],
)


def reach(spec: ServiceSpec) -> dict[str, list[tuple[str, str]]]:
    return {
        subject.entity.name: [(link.entity.name, link.parent) for link in subject.linked]
        for subject in subjects(spec)
    }


def test_a_subjects_data_is_what_points_at_it_down_the_relations_but_not_other_people():
    assert reach(SHOP) == {
        "Customer": [("Order", "Customer"), ("CustomerNote", "Customer"), ("OrderItem", "Order")],
        "Dependant": [],  # a customer's dependant is a person of their own, with rights
    }  # a product is nobody's


def test_a_person_linked_to_a_person_of_the_same_kind_is_not_their_data():
    staff = ServiceSpec(
        name="staff-api",
        entities=[
            entity("Employee", FieldSpec(name="phone"), to=("Employee",)),
            entity("Payslip", FieldSpec(name="salary", type="decimal"), to=("Employee",)),
        ],
    )
    assert reach(staff) == {
        "Employee": [("Payslip", "Employee")],  # not the employees they manage
        "Payslip": [],
    }


def test_a_row_that_points_at_two_people_is_shared_by_both():
    rentals = ServiceSpec(
        name="rentals-api",
        entities=[
            entity("Tenant", FieldSpec(name="phone")),
            entity("Landlord", FieldSpec(name="phone")),
            entity("Lease", FieldSpec(name="rent", type="decimal"), to=("Tenant", "Landlord")),
        ],
    )
    shared = {
        subject.entity.name: [(link.entity.name, link.shared_by) for link in subject.linked]
        for subject in subjects(rentals)
    }
    assert shared == {
        "Tenant": [("Lease", [("landlord_id", "Landlord")])],
        "Landlord": [("Lease", [("tenant_id", "Tenant")])],
    }


def test_an_erased_field_holds_nothing_or_a_marker_or_is_kept():
    person = entity("Customer")
    said = [
        (FieldSpec(name="nickname", required=False), "None"),
        (FieldSpec(name="birthday", type="date", required=False), "None"),
        (FieldSpec(name="full_name"), '"erased"'),
        (FieldSpec(name="username", unique=True), 'f"erased-customers-{row.id}"'),
        (
            FieldSpec(name="email", type="email", unique=True),
            'f"erased-customers-{row.id}@erased.invalid"',
        ),
        # no value says "erased": kept, and the answer names them
        (FieldSpec(name="gender", choices=["female", "male", "other"]), None),
        (FieldSpec(name="date_of_birth", type="date"), None),
        (FieldSpec(name="salary", type="decimal"), None),
        (FieldSpec(name="verified", type="bool"), None),
    ]
    assert [erased_value(person, field) for field, _ in said] == [value for _, value in said]


def test_the_readme_names_each_subjects_export_and_erasure(tmp_path):
    spec = parse_request(
        "shop api with jwt: customers have name and email; orders have customer and total"
    ).spec
    write_service(spec, tmp_path)
    readme = (tmp_path / "README.md").read_text()
    assert "- Customer: `/privacy/customers/{id}/export`, `/privacy/customers/{id}/erase` " in (
        readme
    )
    assert "(with Order)" in readme
    without_sign_in = spec.model_copy(update={"auth": Auth.none})
    write_service(without_sign_in, tmp_path / "open")
    assert not (tmp_path / "open/app/routers/privacy.py").exists()
    assert "no export or erasure" in (tmp_path / "open/README.md").read_text()
