"""Who a generated service holds personal data about, and how it answers their rights:
what an export gathers and what an erasure writes over (app/privacy.py in the service).

A subject is a row of an entity with personal fields (a Customer, or a Wallet with its
owner's email). Its data is that row and the rows that point at it, and at those, down
the relations: a customer's orders and their items. A row of another entity that stands
for people (a Customer's Dependant) is someone else's and is left out, as is a row of
the same entity (a manager's reports). A linked row that also points at another
subject's row (a Lease of a Tenant and a Landlord, a Transfer between two Customers) is
shared: it is exported without its personal fields, which may be the other person's,
and an erasure leaves it alone.

Erasure writes over text with a marker that says so (`erased`, an address at
erased.invalid) and empties an optional field. A required number, date, yes/no or
choice has no value that says "erased", only false facts (0, 1900-01-01, the first
choice), so it is kept, and the answer says which fields were.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workflows.privacy import PEOPLE, Privacy
from workflows.spec import EntitySpec, FieldSpec, FieldType, ServiceSpec


@dataclass(frozen=True)
class Link:
    """Rows of `entity` whose `column_attr` holds the id of a gathered `parent` row; those
    whose `shared_by` columns (attribute, the entity it points at) hold another subject's
    row are shared."""

    entity: EntitySpec
    column_attr: str
    parent: str
    shared_by: list[tuple[str, str]]


@dataclass(frozen=True)
class Subject:
    entity: EntitySpec
    linked: list[Link]  # parents before children, so each parent's rows are gathered first


def personal_fields(entity: EntitySpec) -> list[FieldSpec]:
    return [field for field in entity.fields if entity.privacy_of(field) != Privacy.none]


def subjects(spec: ServiceSpec) -> list[Subject]:
    """Each entity with personal fields, with what links to its rows."""
    return [
        Subject(entity=entity, linked=_linked(spec, entity))
        for entity in spec.entities
        if personal_fields(entity)
    ]


def _linked(spec: ServiceSpec, subject: EntitySpec) -> list[Link]:
    people = {e.name for e in spec.entities if personal_fields(e) or is_a_person(e.name)}
    links: list[Link] = []
    reached, frontier = {subject.name}, [subject.name]
    while frontier:
        parent = frontier.pop(0)
        for child in spec.entities:
            if child.name == subject.name or is_a_person(child.name):
                continue  # the same kind of row, or another person: not this subject's
            for relation in child.relations:
                if relation.target == parent:
                    others = [
                        (other.column_attr, other.target)
                        for other in child.relations
                        if other is not relation and other.target in people
                    ]
                    links.append(Link(child, relation.column_attr, parent, others))
                    if child.name not in reached:
                        reached.add(child.name)
                        frontier.append(child.name)
    return links


def is_a_person(entity: str) -> bool:
    """A TeamMember or a Dependant is someone; a CustomerNote is about someone."""
    words = re.findall(r"[A-Z][a-z]*", entity)
    return bool(words) and words[-1] in PEOPLE


def erased_value(entity: EntitySpec, field: FieldSpec) -> str | None:
    """What an erased field holds, as a Python expression over the erased `row`: nothing
    when it may be empty, else a marker (distinct per row when it must be unique); None
    when no value could say "erased" and the field is kept."""
    if not field.required:
        return "None"
    if field.choices:
        return None
    mark = f"erased-{entity.table}-{{row.id}}"
    markers = {
        FieldType.str: f'f"{mark}"' if field.unique else '"erased"',
        FieldType.text: '"erased"',
        FieldType.email: f'f"{mark}@erased.invalid"',
        FieldType.uuid: f'uuid.uuid5(uuid.NAMESPACE_URL, f"{mark}")',
    }
    return markers.get(field.type)


def kept_fields(entity: EntitySpec) -> list[FieldSpec]:
    """The personal fields an erasure cannot write over (see the module's docstring)."""
    return [field for field in personal_fields(entity) if erased_value(entity, field) is None]
