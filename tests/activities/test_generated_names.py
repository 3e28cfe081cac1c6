"""Any name the spec accepts makes a service that imports, migrates and passes its tests.

People name fields `from`, `type`, `order` or `date`, and entities `Session` or `Text`:
Python keywords and builtins, SQL reserved words, and the names generated modules import.
Long names must stay under every database's identifier limit, and two tables with a
relation of the same name must not collide (MySQL's errno 121).
"""

from __future__ import annotations

import builtins
import keyword

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, inspect

from activities.scaffold.generator import write_service
from tests.activities.migration_checks import alembic
from tests.activities.test_scaffold import run_generated_tests
from workflows.identifiers import GENERATED_CODE_NAMES
from workflows.spec import (
    FIELD_NAME,
    RESERVED_FIELD_NAMES,
    EntitySpec,
    FieldSpec,
    RelationSpec,
    ServiceSpec,
)

SQL_WORDS = """select from where table order group user key index column check primary
references default desc asc values returning window all any both case cast collate
constraint create distinct do else end except fetch for foreign grant having in into
lateral leading not null on only or some then to union unique using when with interval
range rows read write lock schema option session_user current_date current_user""".split()
RISKY = sorted(
    {
        name
        for name in [
            *keyword.kwlist,
            *keyword.softkwlist,
            *dir(builtins),
            *GENERATED_CODE_NAMES,
            *SQL_WORDS,
            "model_config",
            "model_fields",
            "self",
            "cls",
            "request",
            "response",
            "path",
            "status_code",
        ]
        if FIELD_NAME.fullmatch(name) and name not in RESERVED_FIELD_NAMES
    }
)
LONG = "a" * 40
TYPES = ["str", "text", "int", "float", "decimal", "bool", "date", "datetime", "uuid", "email"]


def risky_spec() -> ServiceSpec:
    """Every risky name at once, spread over entities with risky names of their own."""
    chunks = [RISKY[i::4] for i in range(4)]
    entities = [
        EntitySpec(
            name=entity,
            fields=[
                FieldSpec(name=name, type=TYPES[n % len(TYPES)], required=n < 3, unique=n == 0)
                for n, name in enumerate(chunk)
            ],
            relations=[RelationSpec(name="owner", target="Person", required=True)],
        )
        for entity, chunk in zip(["Session", "Text", "Date", "Response"], chunks, strict=True)
    ]
    person = EntitySpec(
        name="Person",
        fields=[FieldSpec(name="name")],
        relations=[RelationSpec(name="parent", target="Person")],
    )
    long = EntitySpec(
        name="A" + "b" * 39,
        fields=[FieldSpec(name=LONG, unique=True), FieldSpec(name=LONG[:-1] + "b", unique=True)],
        relations=[RelationSpec(name=LONG[:-3], target="Person", on_delete="cascade")],
    )
    return ServiceSpec(name="risky-names", entities=[person, *entities, long])


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mariadb"])
def test_every_risky_name_at_once_on_every_database(database, tmp_path, request):
    project = tmp_path / "service"
    write_service(risky_spec(), project)
    url = (
        None
        if database == "sqlite"
        else request.getfixturevalue("postgres_url" if database == "postgresql" else "mariadb_url")
    )
    assert "failed" not in run_generated_tests(project, url)
    if url is None:
        return
    migrated = alembic(project, url, "upgrade", "head")
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://").replace(
            "mysql://", "mysql+pymysql://"
        )
    )
    try:
        found = inspect(engine)
        tables = found.get_table_names()
        names = set(tables)
        for table in tables:
            names |= {c["name"] for c in found.get_unique_constraints(table)}
            names |= {i["name"] for i in found.get_indexes(table)}
            names |= {k["name"] for k in found.get_foreign_keys(table)}
        assert max(len(name) for name in names if name) <= 63
    finally:
        engine.dispose()
    down = alembic(project, url, "downgrade", "base")
    assert down.returncode == 0, down.stderr[-2000:]


field_names = st.one_of(st.sampled_from(RISKY), st.from_regex(FIELD_NAME, fullmatch=True)).filter(
    lambda name: name not in RESERVED_FIELD_NAMES and not name.endswith("_id")
)
entity_names = st.from_regex(r"^[A-Z][a-zA-Z0-9]{0,39}$", fullmatch=True)


@st.composite
def specs(draw) -> ServiceSpec:
    names = draw(st.lists(field_names, min_size=1, max_size=6, unique_by=lambda n: n.rstrip("_")))
    kinds = draw(st.lists(st.sampled_from(TYPES), min_size=len(names), max_size=len(names)))
    entity = draw(entity_names.filter(_usable_entity))
    fields = [
        FieldSpec(name=n, type=k, unique=i == 0)
        for i, (n, k) in enumerate(zip(names, kinds, strict=True))
    ]
    return ServiceSpec(name="drawn-names", entities=[EntitySpec(name=entity, fields=fields)])


def _usable_entity(name: str) -> bool:
    try:
        EntitySpec(name=name)
    except ValueError:
        return False
    return True


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=specs())
def test_drawn_names_make_services_that_pass_their_tests(spec, tmp_path_factory):
    project = tmp_path_factory.mktemp("drawn") / "service"
    write_service(spec, project)
    assert "failed" not in run_generated_tests(project)
