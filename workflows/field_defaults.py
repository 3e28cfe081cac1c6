"""What a field's rows hold before anyone wrote them: the value rows that already exist
get when a required field is added, and the default Shipmate suggests when it asks."""

from __future__ import annotations

from workflows.spec import FieldSpec, FieldType

# What rows that exist get when a required field without a default is added: only where
# an empty value is still a valid one. An email, a date, a uuid or a unique value has no
# neutral value, and inventing one ('' as an email) would be a lie in every row.
NEUTRAL = {
    FieldType.str: "",
    FieldType.text: "",
    FieldType.int: "0",
    FieldType.float: "0",
    FieldType.decimal: "0",
    FieldType.bool: "false",
}


# What Shipmate suggests as a default, by type: in the question at change time and in a
# migration's refusal alike.
EXAMPLE_DEFAULTS = {
    FieldType.str: "pending",
    FieldType.text: "none",
    FieldType.int: "0",
    FieldType.float: "0",
    FieldType.decimal: "0.00",
    FieldType.bool: "false",
    FieldType.date: "2026-01-01",
    FieldType.datetime: "2026-01-01T00:00:00Z",
    FieldType.uuid: "00000000-0000-0000-0000-000000000000",
    FieldType.email: "ops@example.com",
}


def existing_rows_value(field: FieldSpec) -> str | None:
    """The value rows that already exist get for a new required field, as text: its
    default, else a neutral value where one is honest; None when there is none."""
    if field.default is not None:
        return field.default
    if field.unique or field.choices:  # '' is no choice
        return None
    return NEUTRAL.get(field.type)
