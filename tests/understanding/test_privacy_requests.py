"""Personal data as people mark it: 'ssn (sensitive)', 'phone (pii)' in a request, the
plan language's personal / sensitive / not-personal, and what the plan card shows."""

from __future__ import annotations

from slack_views.plan import spec_summary
from understanding import parse_request
from understanding.plan_language import read, render
from workflows.privacy import Privacy


def fields_of(text: str) -> dict[str, Privacy | None]:
    spec = parse_request(text).spec
    return {field.name: field.privacy for entity in spec.entities for field in entity.fields}


def test_a_request_marks_a_field_sensitive_or_personal_in_brackets():
    said = fields_of(
        "build a patients api with name, email, insurance number (sensitive), "
        "emergency contact (pii), and ward"
    )
    assert said == {
        "name": None,
        "email": None,
        "insurance_number": Privacy.sensitive,
        "emergency_contact": Privacy.personal,
        "ward": None,
    }


def test_the_card_marks_what_the_service_must_protect_and_nothing_else():
    spec = parse_request(
        "build a shop api with customers (name, email, phone, ssn) and products (name, price)"
    ).spec
    card = spec_summary(spec)
    assert "Customer: name (personal), email (email, personal), phone (personal), ssn " in card
    assert "ssn (sensitive)" in card
    assert "Product: name, price (decimal)" in card  # a product's name is nobody's
    assert [(e, f) for e, f, _ in spec.personal_data()] == [
        ("Customer", "name"),
        ("Customer", "email"),
        ("Customer", "phone"),
        ("Customer", "ssn"),
    ]


def test_the_plan_says_what_was_marked_and_takes_a_mark_back():
    spec = parse_request("build a members api with name, nickname (pii) and ssn (sensitive)").spec
    plan = render(spec)
    assert "nickname str personal" in plan and "ssn str sensitive" in plan
    assert "name str," in plan  # read from its name, so not written: the plan stays exact
    edited = read(plan.replace("ssn str sensitive", "ssn str not-personal"))
    member = edited.entities[0]
    assert [(f.name, f.privacy) for f in member.fields] == [
        ("name", None),
        ("nickname", Privacy.personal),
        ("ssn", Privacy.none),
    ]
    assert [f for _, f, _ in edited.personal_data()] == ["name", "nickname"]
