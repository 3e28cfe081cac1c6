"""Worked examples for the OpenAI prompt, taken from the public request table: the
model sees how this project reads requests, in the same vocabulary as the rule parser.

The answers are the rule parser's own readings, so both paths agree by construction
and the table test keeps them right."""

from __future__ import annotations

from understanding.rules import parse_request

EXAMPLE_REQUESTS = [
    "a vehicle fleet API: vehicles (plate, make, model), drivers (name, license_number unique)",
    "an orders api where orders have customer, total (decimal) and status: pending, paid or "
    "shipped",
    "a shop api: customers have name; orders belong to customers and have total (decimal)",
    "clinic api with doctor and receptionist roles: patients have name and date of birth; "
    "appointments have patient and starts_at; only doctors can prescribe: prescriptions "
    "have patient and drug",
    "Make an inventory API. Items: name, sku (unique), quantity (int), price (decimal). Use "
    "MySQL. Deploy to staging and then prod on ECS.",
]


def example_answer(text: str) -> dict:
    """What the model should answer for `text`, in the PlanDraft shape."""
    result = parse_request(text)
    spec = result.spec
    assert spec is not None, text  # the table test keeps every example buildable
    return {
        "spec": {
            "name": spec.name,
            "description": spec.description,
            "api": [a.value for a in spec.api],
            "database": spec.database.value,
            "auth": spec.auth.value,
            "roles": spec.roles,
            "entities": [
                {
                    "name": e.name,
                    "fields": [
                        {
                            "name": f.name,
                            "type": f.type.value,
                            "required": f.required,
                            "unique": f.unique,
                            "choices": f.choices,
                        }
                        for f in e.fields
                    ],
                    "relations": [
                        {"name": r.name, "target": r.target, "required": r.required}
                        for r in e.relations
                    ],
                }
                for e in spec.entities
            ],
            "permissions": [
                {"entity": e.name, "action": action.value, "roles": roles}
                for e in spec.entities
                for action, roles in e.permissions.items()
            ],
            "deploy_target": spec.deploy.target.value,
            "environments": spec.deploy.environments,
            "events": [{"entity": e.entity, "sink": e.sink.value} for e in spec.events],
        },
        "questions": [],
        "assumptions": result.defaults,
    }
