"""The public table of requests (request_table.jsonl beside this file): how people ask,
and the spec each must become.

Rows come from the project's own examples, realistic Slack phrasings and the failure
families found by people outside the team (filler words taken for entities, stacks
Shipmate does not build, Entity(field) notation, semicolons, glued types, roles,
gRPC beside REST, names that cannot be used, links between entities). The rule
parser must read at least 90 % of them exactly; the benchmark prints the score, and
the OpenAI path is checked against the same rows.
"""

from __future__ import annotations

import json
from pathlib import Path

from shipmate.settings import Settings
from understanding import understand
from workflows.spec import ServiceSpec


def shape(text: str) -> str:
    """What a reader checks, on one line: name db auth(roles) api target envs | entities,
    or the questions asked instead."""
    result = understand(Settings(openai_api_key=None), [text])
    if result.spec is None:
        return "QUESTION: " + " ".join(result.questions)
    return spec_shape(result.spec)


def spec_shape(spec: ServiceSpec) -> str:
    roles = f"({','.join(spec.roles)})" if spec.roles else ""
    head = " ".join(
        [
            spec.name,
            spec.database.value,
            spec.auth.value + roles,
            "+".join(a.value for a in spec.api),
            spec.deploy.target.value,
            ">".join(spec.deploy.environments) or "-",
        ]
    )
    entities = []
    for entity in spec.entities:
        fields = [
            f"{f.name}:{f.type.value}{'!' if f.unique else ''}{'' if f.required else '?'}"
            + (f"{{{'|'.join(f.choices)}}}" if f.choices else "")
            for f in entity.fields
        ] + [f"{r.name}->{r.target}" for r in entity.relations]
        kept = [f"{a.value}:{'+'.join(r)}" for a, r in sorted(entity.permissions.items())]
        rules = f"[{' '.join(kept)}]" if kept else ""
        entities.append(f"{entity.name}({', '.join(fields)}){rules}")
    return head + " | " + " ".join(entities)


# One row a line: [the request as someone wrote it, the shape it must read as].
CASES = [
    tuple(json.loads(row))
    for row in (Path(__file__).parent / "request_table.jsonl").read_text().splitlines()
    if row.strip()
]
