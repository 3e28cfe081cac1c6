"""Names that are Shipmate's own are no one else's problem (#30): entities called
Account, Class and Query are built, and the service's own names give way.

Account is also the class and table of who may sign in, Class a Python keyword, Query
GraphQL's root type. The generated service passes its own tests, a user creates and
lists each through REST and GraphQL, and signing in still works beside /accounts. A
service that gains an Account later moves its accounts aside, and back on the way down.
"""

from __future__ import annotations

import httpx
import pytest

from activities.scaffold import names
from activities.scaffold.generator import render_service, write_service
from tests.activities.migration_checks import assert_schema_is, insert, migrate, rows, version
from tests.activities.test_generated_security import bearer, service_env, sign_in
from tests.activities.test_scaffold import run_generated_tests, serving
from workflows.spec import (
    Api,
    Auth,
    Database,
    EntitySpec,
    EventSpec,
    FieldSpec,
    RelationSpec,
    ServiceSpec,
)

ACCOUNT = EntitySpec(
    name="Account",
    fields=[FieldSpec(name="username", unique=True), FieldSpec(name="balance", type="decimal")],
)
CLASS = EntitySpec(
    name="Class",
    fields=[FieldSpec(name="title"), FieldSpec(name="from", type="date")],
    relations=[RelationSpec(name="account", target="Account", required=True)],
    permissions={"create": ["teacher"]},
)
QUERY = EntitySpec(name="Query", fields=[FieldSpec(name="text", type="text")])
SPEC = ServiceSpec(
    name="school-api",
    api=[Api.rest, Api.graphql],
    database=Database.sqlite,
    auth=Auth.jwt,
    roles=["teacher", "student"],
    entities=[ACCOUNT, CLASS, QUERY],
)
PASSWORD = "a-long-password-for-staff"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    out = tmp_path_factory.mktemp("school") / "service"
    write_service(SPEC, out)
    return out


def test_the_entities_keep_their_names_and_shipmate_moves_its_own():
    files = render_service(SPEC)
    assert {"app/routers/account.py", "app/routers/class_.py", "app/routers/query.py"} <= set(files)
    assert {"tests/test_account.py", "tests/test_class_.py", "tests/test_query.py"} <= set(files)
    models = files["app/models.py"]
    assert 'class Account(db.Base):\n    __tablename__ = "accounts"' in models
    assert 'class SignInAccount(db.Base):\n    """Who may sign in' in models
    assert '__tablename__ = "auth_account"' in models
    graphql = files["app/graphql.py"]
    assert '@strawberry.type(name="Query")\nclass QueryType:' in graphql
    assert '@strawberry.type(name="QueryRoot")\nclass Query:' in graphql
    assert 'name="class"' in graphql and "def class_(" in graphql


def test_a_service_without_those_entities_keeps_the_names_it_had():
    plain = SPEC.model_copy(update={"entities": [EntitySpec(name="Lesson")]})
    assert names.accounts_table(plain) == "accounts"
    assert names.accounts_model(plain) == "Account"
    assert names.graphql_types(plain)["root"] == {"Query": "Query", "Mutation": "Mutation"}
    files = render_service(plain)
    assert 'class Account(db.Base):\n    """Who may sign in' in files["app/models.py"]
    assert "from app.models import Account\n" in files["app/security.py"]
    assert names.own_paths(plain) == {"metrics": "/metrics", "docs": "/docs"}


# Each meets a name of the service's own: a module (auth, health, graphql, events, audit,
# privacy, tests' logs), db's Base, /metrics and /docs, a keyword as a class (None) or a module
# (import), GraphQL's root and scalar types, a class linters refuse (I), the accounts'
# class twice over and the audit trail's class.
EVERY_OTHER = [
    "Base", "Auth", "Health", "Graphql", "Events", "Metric", "Doc", "None", "Import",
    "Mutation", "Date", "I", "Account", "SignInAccount", "Audit", "AuditEntry", "Logs",
    "Privacy", "Tracing",
]  # fmt: skip


def test_every_other_clash_builds_and_passes_its_own_tests(tmp_path):
    fields = [FieldSpec(name="label"), FieldSpec(name="on", type="date", required=False)]
    entities = [EntitySpec(name=name, fields=fields) for name in EVERY_OTHER]
    entities[7] = entities[7].model_copy(
        update={"relations": [RelationSpec(name="base", target="Base")]}
    )
    spec = SPEC.model_copy(
        update={
            "entities": entities,
            "events": [EventSpec(entity="None"), EventSpec(entity="Events")],
        }
    )
    spec = ServiceSpec.model_validate(spec.model_dump())
    write_service(spec, tmp_path / "service")
    files = {p.relative_to(tmp_path / "service").as_posix() for p in tmp_path.rglob("*.py")}
    for module in (
        "auth_",
        "health_",
        "graphql_",
        "events_",
        "import_",
        "none",
        "base",
        "audit_",
        "logs_",
    ):
        assert f"app/routers/{module}.py" in files and f"tests/test_{module}.py" in files
    main = (tmp_path / "service/app/main.py").read_text()
    assert '@app.get("/health/metrics"' in main and 'docs_url="/openapi/docs"' in main
    models = (tmp_path / "service/app/models.py").read_text()
    assert "class None_(db.Base):" in models and "class I_(db.Base):" in models
    assert "class SignInAccount1(db.Base):" in models
    audit = (tmp_path / "service/app/audit.py").read_text()
    assert "class AuditTrailEntry(db.Base):" in audit and "class AuditEntry(db.Base):" in models
    graphql = (tmp_path / "service/app/graphql.py").read_text()
    assert '@strawberry.type(name="MutationRoot")' in graphql
    assert '@strawberry.type(name="DateRecord")' in graphql
    summary = run_generated_tests(tmp_path / "service")
    assert "passed" in summary and "failed" not in summary


def test_the_generated_service_passes_its_own_tests(project):
    summary = run_generated_tests(project)
    assert "passed" in summary and "failed" not in summary


def staff(base: str, admin: dict[str, str], role: str) -> dict[str, str]:
    """An account with `role`, added by the admin; its bearer header."""
    who = {"username": f"a-{role}", "password": PASSWORD}
    added = httpx.post(f"{base}/auth/accounts", json={**who, "role": role}, headers=admin)
    assert added.status_code == 201, added.text
    return bearer(httpx.post(f"{base}/auth/token", data=who).json()["access_token"])


def test_a_user_creates_and_lists_them(project, tmp_path):
    with serving(project, service_env(f"sqlite:///{tmp_path / 'school.db'}")) as base:
        admin = bearer(sign_in(base))
        teacher, student = staff(base, admin, "teacher"), staff(base, admin, "student")
        account = httpx.post(
            f"{base}/accounts", json={"username": "ada", "balance": "12.50"}, headers=admin
        )
        assert account.status_code == 201, account.text
        account = account.json()
        lesson = {"title": "Algebra", "from": "2026-09-01", "account_id": account["id"]}
        refused = httpx.post(f"{base}/classes", json=lesson, headers=student)
        assert refused.status_code == 403  # only teachers (and admins) create classes
        made = httpx.post(f"{base}/classes", json=lesson, headers=teacher)
        assert made.status_code == 201, made.text
        query = httpx.post(f"{base}/queries", json={"text": "why?"}, headers=teacher)
        assert query.status_code == 201, query.text

        assert httpx.get(f"{base}/accounts", headers=teacher).json() == [account]
        assert httpx.get(f"{base}/classes", headers=teacher).json() == [made.json()]
        assert httpx.get(f"{base}/queries", headers=teacher).json() == [query.json()]
        # the entity Account is not who signs in
        me = httpx.get(f"{base}/auth/me", headers=teacher).json()
        assert me == {"username": "a-teacher", "role": "teacher"}
        gone = httpx.delete(f"{base}/accounts/{account['id']}", headers=admin)
        assert gone.status_code == 409  # its class still points at it

        asked = {
            "query": "mutation($d: QueryInput!) { create_query(data: $d) { id text } }",
            "variables": {"d": {"text": "how?"}},
        }
        created = httpx.post(f"{base}/graphql", json=asked, headers=teacher).json()
        assert "errors" not in created, created
        listed = httpx.post(
            f"{base}/graphql",
            json={"query": "{ queries { text } classes { title } class(id: 1) { title } }"},
            headers=teacher,
        ).json()
        assert listed["data"] == {
            "queries": [{"text": "why?"}, {"text": "how?"}],
            "classes": [{"title": "Algebra"}],
            "class": {"title": "Algebra"},
        }
        typename = httpx.post(
            f"{base}/graphql", json={"query": "{ query(id: 1) { __typename } }"}, headers=teacher
        ).json()
        assert typename["data"] == {"query": {"__typename": "Query"}}


def test_an_account_entity_added_later_moves_the_accounts_aside(tmp_path, database, engine):
    v1 = SPEC.model_copy(update={"entities": [QUERY], "api": [Api.rest]})
    v2 = SPEC.model_copy(update={"entities": [QUERY, ACCOUNT], "api": [Api.rest], "version": 2})
    project = tmp_path / "school"
    write_service(v1, project)
    migrate(project, database, "upgrade", "head")
    insert(engine, "accounts", username="ada", password_hash="x", role="admin")
    write_service(v2, project)
    migrate(project, database, "upgrade", "head")
    assert_schema_is(engine, v2)
    assert rows(engine, "auth_account", "username") == [("ada",)]
    insert(engine, "accounts", username="ada", balance="1.00")  # the entity's, beside it
    migrate(project, database, "check")  # the models ask for nothing more
    migrate(project, database, "downgrade", "v0001")
    assert version(engine) == "v0001"
    assert_schema_is(engine, v1)
    assert rows(engine, "accounts", "username") == [("ada",)]
