"""Sets of requests written by people who never read the parser, and how one is scored.

Each line of a set is {"text": …, "want": {…}}: the intent (build, question, review,
optimize, integrate, status, elsewhere) and, for a build, only what the request says
(entities with their fields as `type`, `type!` unique, `type?` optional,
`str{a|b}` choices, `->Target` links; database, auth, roles, api, target,
environments, name, permissions when said). What a want leaves out may be anything.

A reading is exact when everything the want says holds; partly right when the intent
and the entities are right but a field or a setting is not; wrong otherwise. It is
silently different when Shipmate would build something other than what was asked
without a word about it: a spec that is not exact, with no "I didn't use" note.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bot import intents
from bot.intents import MODES, Intent
from shipmate.settings import Settings
from understanding import understand
from workflows.environments import ENVIRONMENT_WORDS
from workflows.spec import ServiceSpec

UNSEEN = Path(__file__).parent.parent / "tests" / "understanding" / "unseen_requests.jsonl"
STATUS = (Intent.status, Intent.deployed, Intent.history, Intent.who_approved)


@dataclass
class Score:
    exact: list[str] = field(default_factory=list)
    partly: list[tuple[str, str]] = field(default_factory=list)
    wrong: list[tuple[str, str]] = field(default_factory=list)
    silent: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.exact) + len(self.partly) + len(self.wrong)


def load(path: Path = UNSEEN) -> list[tuple[str, dict]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [(row["text"], row["want"]) for row in rows]


def score(rows: list[tuple[str, dict]]) -> Score:
    result = Score()
    for text, want in rows:
        intent, spec, noted = read(text)
        problems = differences(want, intent, spec)
        if not problems:
            result.exact.append(text)
            continue
        entities_right = intent == want["intent"] and not any(
            p.startswith("entities") for p in problems
        )
        (result.partly if entities_right else result.wrong).append((text, "; ".join(problems)))
        if spec is not None and not noted:
            result.silent.append(text)
    return result


def read(text: str) -> tuple[str, ServiceSpec | None, bool]:
    """What Shipmate makes of a new request: its intent, the spec, whether a note was said."""
    reading = intents.read(text)
    if reading.intent in STATUS:
        return "status", None, True
    if reading.intent in MODES:
        return reading.intent.value, None, True
    if reading.intent != Intent.build:
        return reading.intent.value, None, True
    plan = understand(Settings(openai_api_key=None), [text])
    if plan.spec is None:
        return plan.mode or "question", None, True
    return "build", plan.spec, bool(plan.notes)


def differences(want: dict, intent: str, spec: ServiceSpec | None) -> list[str]:
    if intent != want["intent"]:
        return [f"intent {intent} (want {want['intent']})"]
    if spec is None:
        return []
    problems = []
    said = {
        "name": spec.name,
        "database": spec.database.value,
        "auth": spec.auth.value,
        "roles": sorted(spec.roles),
        "api": sorted(a.value for a in spec.api),
        "target": spec.deploy.target.value,
        "environments": spec.deploy.environments,
    }
    for key, value in said.items():
        wanted = want.get(key)
        if key == "environments" and wanted is not None:  # 'production' is prod's own name
            wanted = [ENVIRONMENT_WORDS.get(e, e) for e in wanted]
        if isinstance(wanted, list) and key in ("roles", "api"):
            wanted = sorted(wanted)
        if wanted is not None and wanted != value:
            problems.append(f"{key} {value} (want {wanted})")
    entities = {e.name: e for e in spec.entities}
    if set(entities) != set(want["entities"]):
        return [f"entities {sorted(entities)} (want {sorted(want['entities'])})", *problems]
    for name, fields in want["entities"].items():
        if fields:
            got = entity_fields(entities[name])
            if got != fields:
                problems.append(f"{name} {got} (want {fields})")
    for name, kept in want.get("permissions", {}).items():
        got = {a.value: sorted(r) for a, r in entities[name].permissions.items()}
        if got != {a: sorted(r) for a, r in kept.items()}:
            problems.append(f"{name} permissions {got} (want {kept})")
    return problems


def entity_fields(entity) -> dict[str, str]:
    """An entity's fields written the way a want writes them."""
    fields = {}
    for f in entity.fields:
        kind = f.type.value + (f"{{{'|'.join(f.choices)}}}" if f.choices else "")
        fields[f.name] = kind + ("!" if f.unique else "") + ("" if f.required else "?")
    for r in entity.relations:
        fields[r.name] = f"->{r.target}"
    return fields
