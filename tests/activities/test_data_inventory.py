"""The generated README's data inventory: every field about a person, with its category,
for the privacy review the brief's compliance asks for; none when nothing is personal."""

from __future__ import annotations

from activities.scaffold.generator import write_service
from understanding import parse_request


def readme(tmp_path, request: str) -> str:
    write_service(parse_request(request).spec, tmp_path)
    return (tmp_path / "README.md").read_text()


def test_the_readme_lists_each_personal_field_with_its_category(tmp_path):
    text = readme(
        tmp_path,
        "build a clinic api with patients (full name, email, phone, date of birth, "
        "ssn, blood type (sensitive)) and rooms (name, floor int)",
    )
    table = text[text.index("## Personal data") :].split("\n\n")[2].splitlines()
    assert table[2:] == [
        "| Patient | full_name | personal | not stated | until deleted |",
        "| Patient | email | personal | not stated | until deleted |",
        "| Patient | phone | personal | not stated | until deleted |",
        "| Patient | date_of_birth | personal | not stated | until deleted |",
        "| Patient | ssn | sensitive | not stated | until deleted |",
        "| Patient | blood_type | sensitive | not stated | until deleted |",
    ]  # a room's name is nobody's


def test_a_service_with_nothing_personal_has_no_inventory(tmp_path):
    assert "## Personal data" not in readme(tmp_path, "build a books api with title and isbn")
