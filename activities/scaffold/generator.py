"""Render a ServiceSpec into a complete service repository.

Output is deterministic (same spec, same bytes: no timestamps, sorted iteration) so
image layers cache and the diff between two spec versions shows only what changed.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from jinja2 import BytecodeCache, Environment, PackageLoader, StrictUndefined
from jinja2.bccache import Bucket
from ruff.__main__ import find_ruff_bin

from activities.scaffold import names
from activities.scaffold.migrations import migration_files
from activities.scaffold.subjects import erased_value, kept_fields, personal_fields, subjects
from workflows import identifiers
from workflows.event_spec import queue_suffix
from workflows.permissions import Action, allowed, kept_actions
from workflows.spec import (
    Api,
    Auth,
    EntitySpec,
    FieldSpec,
    FieldType,
    ServiceSpec,
    snake_case,
)

TEMPLATES = Path(__file__).parent / "templates"
RUFF_TIMEOUT = 60  # seconds for each of ruff's passes over a service (they take well under one)
GENERATED_DIRS = ("app", "tests", "migrations", "specs")
AUTH_ONLY = {"tests/test_roles.py", "app/routers/audit.py"}
# A person's rights over their data: with personal data, and admins to act on them.
SUBJECTS_ONLY = {"app/privacy.py", "app/routers/privacy.py", "tests/test_privacy.py"}
# Password sign-in (jwt, oauth2) and OpenID Connect sign-in: each has its own files.
PASSWORD_ONLY = {"app/security.py", "app/routers/auth.py", "tests/test_auth.py"}
OIDC_ONLY = {
    "app/issuer.py",
    "app/security_oidc.py",
    "app/routers/auth_oidc.py",
    "tests/issuer.py",
    "tests/test_sign_in.py",
}
GRAPHQL_ONLY = {"app/graphql.py", "tests/test_graphql.py"}
EVENTS_ONLY = {"app/events.py", "app/relay.py", "app/sinks.py", "tests/test_events.py"}
CONSUMERS_ONLY = {"app/inbox.py", "app/consumer.py", "tests/test_consumer.py"}
# Template files whose output name differs from the template's.
RENAMES = {
    "dockerignore": ".dockerignore",
    "gitignore": ".gitignore",
    "github/workflows/ci.yml": ".github/workflows/ci.yml",
    "app/security_oidc.py": "app/security.py",
    "app/routers/auth_oidc.py": "app/routers/auth.py",
}


def render_service(spec: ServiceSpec, history: list[ServiceSpec] = ()) -> dict[str, str]:
    """Every file of the generated repository, path -> text.

    `history` holds the earlier spec versions: each one's migration is kept, and the new
    version migrates from the last of them.
    """
    env = _environment(spec)
    chain = sorted((s for s in history if s.version < spec.version), key=lambda s: s.version)
    chain.append(spec)
    files: dict[str, str] = migration_files(chain)
    for version in chain:
        files[f"specs/v{version.version:04d}.json"] = version.model_dump_json(indent=2) + "\n"
    for template_path in sorted(TEMPLATES.rglob("*.j2")):
        source = template_path.relative_to(TEMPLATES).as_posix().removesuffix(".j2")
        name = template_path.relative_to(TEMPLATES).as_posix()
        relative = RENAMES.get(source, source)
        if source in AUTH_ONLY and spec.auth == Auth.none:
            continue
        if source in PASSWORD_ONLY and not spec.auth.keeps_accounts:
            continue
        if source in OIDC_ONLY and spec.auth != Auth.oidc:
            continue
        if relative in GRAPHQL_ONLY and Api.graphql not in spec.api:
            continue
        if relative in EVENTS_ONLY and not spec.events:
            continue
        if relative in CONSUMERS_ONLY and not spec.consumers:
            continue
        if relative in SUBJECTS_ONLY and (spec.auth == Auth.none or not env.globals["subjects"]):
            continue
        if relative == "app/routers/entity.py":
            for entity in spec.entities:
                files[f"app/routers/{names.module(entity)}.py"] = env.get_template(name).render(
                    spec=spec, entity=entity
                )
        elif relative == "tests/test_entity.py":
            for entity in spec.entities:
                files[f"tests/test_{names.module(entity)}.py"] = env.get_template(name).render(
                    spec=spec, entity=entity
                )
        else:
            files[relative] = env.get_template(name).render(spec=spec)
    return format_python(files)


def format_python(files: dict[str, str]) -> dict[str, str]:
    """Generated Python goes through ruff, so it reads like code a person would hand over."""
    ruff = find_ruff_bin()
    python_files = {path: text for path, text in files.items() if path.endswith(".py")}
    with tempfile.TemporaryDirectory(prefix="shipmate-format-") as tmp:
        root = Path(tmp)
        for path, text in python_files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        (root / "pyproject.toml").write_text(files["pyproject.toml"])
        common = ["--no-cache", "."]
        subprocess.run(
            [ruff, "check", "--fix-only", "--quiet", *common],
            cwd=root,
            check=True,
            capture_output=True,
            timeout=RUFF_TIMEOUT,
        )
        subprocess.run(
            [ruff, "format", "--quiet", *common],
            cwd=root,
            check=True,
            capture_output=True,
            timeout=RUFF_TIMEOUT,
        )
        return {**files, **{path: (root / path).read_text() for path in python_files}}


def write_service(
    spec: ServiceSpec, out_dir: Path, history: list[ServiceSpec] | None = None
) -> tuple[str, int]:
    """Write the repository to out_dir, on top of its earlier versions (`history`, or
    those out_dir holds); returns its fingerprint and how many files it has."""
    files = render_service(spec, earlier_versions(out_dir) if history is None else history)
    out_dir.mkdir(parents=True, exist_ok=True)
    for generated in GENERATED_DIRS:  # wholly generated: a removed entity leaves nothing behind
        shutil.rmtree(out_dir / generated, ignore_errors=True)
    for relative, text in files.items():
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return fingerprint(files), len(files)


def earlier_versions(repo: Path) -> list[ServiceSpec]:
    return [
        ServiceSpec.model_validate_json(path.read_text())
        for path in sorted(repo.glob("specs/v*.json"))
    ]


def missing_versions(spec: ServiceSpec, history: list[ServiceSpec]) -> list[int]:
    """Earlier versions the history lacks: each one's migration must be in the chain, or
    a database at that version cannot be migrated ("Can't locate revision")."""
    held = {s.version for s in history}
    return [version for version in range(1, spec.version) if version not in held]


def fingerprint(files: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + files[path].encode() + b"\0")
    return digest.hexdigest()


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once per process. The environment is made anew for each spec
    (its filters know the spec's entities), so without this every scaffold parsed and
    compiled every template again: two thirds of its time. A template whose source
    changed is compiled again (the bucket checks its checksum)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED = _CompiledTemplates()


def _environment(spec: ServiceSpec) -> Environment:
    env = Environment(
        loader=PackageLoader("activities.scaffold", "templates"),
        bytecode_cache=COMPILED,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - output is Python source; names are validated by the spec
    )
    by_name = {entity.name: entity for entity in spec.entities}
    env.filters["snake"] = snake_case
    # Text from people goes into docstrings: no quotes or backslashes can end them early.
    env.filters["plain"] = lambda text: " ".join(
        str(text).replace("\\", " ").replace('"', "'").split()
    )
    env.filters["entity_table"] = lambda name: by_name[name].table
    env.filters["entity_path"] = lambda name: by_name[name].path
    # Shipmate's own names, where an entity's would meet them (activities/scaffold/names)
    env.filters["module"] = names.module
    env.filters["model"] = names.model
    env.filters["resolver"] = names.graphql_field
    env.globals["accounts_table"] = names.accounts_table(spec)
    env.globals["accounts_model"] = names.accounts_model(spec)
    env.globals["audit_model"] = names.audit_model(spec)
    env.globals["graphql_types"] = names.graphql_types(spec)
    env.globals["own_paths"] = names.own_paths(spec)
    env.globals["sink_of"] = {event.entity: event.sink.value for event in spec.events}
    env.globals["sinks"] = sorted({event.sink.value for event in spec.events})
    env.globals["queue_suffix"] = queue_suffix
    env.globals["consumed"] = sorted({consumer.sink.value for consumer in spec.consumers})
    env.globals["brokers"] = sorted({*env.globals["sinks"], *env.globals["consumed"]})
    # "admin" always exists, whatever else the request names: the first account has it and
    # may do everything; the generated tests try every other role against each rule.
    roles = ["admin", *[r for r in spec.roles if r != "admin"]] if spec.roles else ["admin", "user"]
    env.globals["roles"] = roles
    env.globals["allowed"] = lambda permissions, action: allowed(permissions, Action(action))
    env.globals["kept_actions"] = lambda entity: kept_actions(entity.permissions, roles)
    env.globals["alias"] = lambda name, attr: f'alias="{name}"' if name != attr else ""
    env.globals["dependants"] = lambda entity: [
        (child, relation)
        for child in spec.entities
        for relation in child.relations
        if relation.target == entity.name
    ]
    env.globals["unique_name"] = identifiers.unique_name
    env.globals["index_name"] = identifiers.index_name
    env.globals["foreign_key_name"] = identifiers.foreign_key_name
    env.globals["sample"] = sample_payload
    env.globals["wrong_values"] = wrong_values
    env.globals["sample_value"] = sample_value
    env.globals["field_type"] = field_type
    env.globals["about_people"] = about_people(spec)
    env.globals["subjects"] = subjects(spec)
    env.globals["personal_fields"] = personal_fields
    env.globals["erased_value"] = erased_value
    env.globals["kept_fields"] = kept_fields
    return env


def about_people(spec: ServiceSpec) -> tuple[EntitySpec | None, list[str]]:
    """What the privacy tests write: the first entity with personal data (else the first
    entity), and its text fields whose values must never show where they do not belong."""
    people = [e for e in spec.entities if personal_fields(e)]
    entity = (people or spec.entities or [None])[0]
    if entity is None:
        return None, []
    watched = personal_fields(entity) if people else entity.fields
    text = (FieldType.str, FieldType.text, FieldType.email)
    return entity, [field.name for field in watched if field.type in text]


def field_type(field: FieldSpec, types: dict[str, str]) -> str:
    """The annotation of a field: its choices when it has them, else its type's."""
    if field.choices:
        return "Literal[" + ", ".join(f'"{choice}"' for choice in field.choices) + "]"
    return types[field.type.value]


def sample_payload(entity: EntitySpec, bump: int = 0) -> str:
    """A Python dict expression of valid values; `n` keeps unique values distinct, and a
    bump gives every field a different value than the same `n` without it."""
    items = [f'"{field.name}": {sample_value(field, bump)}' for field in entity.fields]
    return "{" + ", ".join(items) + "}"


def sample_value(field: FieldSpec, bump: int = 0) -> str:
    n = f"(n + {bump})" if bump else "n"
    if field.choices:
        return f"{field.choices!r}[{n} % {len(field.choices)}]"
    label = field.name[:16]  # values name their field, and stay short on the line
    samples = {
        FieldType.str: f'f"{label}-{{{n}}}"',
        FieldType.text: f'f"{label} text {{{n}}}"',
        FieldType.int: f"{n} + 1",
        FieldType.float: f"{n} + 0.5",
        FieldType.decimal: f'f"{{{n}}}.25"',
        FieldType.bool: f"{n} % 2 == 0",
        FieldType.date: f'f"2026-01-{{{n} % 28 + 1:02d}}"',
        FieldType.datetime: f'f"2026-01-01T00:00:{{{n} % 60:02d}}Z"',
        FieldType.uuid: f'f"00000000-0000-0000-0000-{{{n}:012d}}"',
        FieldType.email: f'f"{label}{{{n}}}@example.com"',
    }
    return samples[field.type]


# A JSON value of the wrong kind for each field type: what a careless client sends.
WRONG = {
    FieldType.str: "12345",
    FieldType.text: "[1, 2]",
    FieldType.int: '"12"',
    FieldType.float: '"1.5"',
    FieldType.decimal: "12.5",
    FieldType.bool: '"true"',
    FieldType.date: "0",
    FieldType.datetime: "0.5",
    FieldType.uuid: "7",
    FieldType.email: '"not-an-email"',
}


def wrong_values(entity: EntitySpec) -> str:
    items = [f'"{field.name}": {WRONG[field.type]}' for field in entity.fields]
    items += [f'"{relation.column}": "one"' for relation in entity.relations]
    return "{" + ", ".join(items) + "}"
