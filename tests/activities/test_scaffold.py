"""The generator: what it writes passes its own tests, on SQLite, PostgreSQL and MariaDB,
migrates real data forward, lints clean, and is the same bytes for the same spec."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import docker
import httpx
import psycopg
import pytest
from openapi_spec_validator import validate

from activities.scaffold.generator import render_service, write_service
from testkit.served import serving  # noqa: F401 - the generated-service tests import it here
from testkit.waiting import eventually_sync
from understanding import parse_change, parse_request

SPECS = {
    "one entity": "build a todo api",
    "relations": "shop api with jwt, roles: admin and clerk. customers have name and email "
    "(unique); orders have customer (required), total (decimal) and status; "
    "order items have order, sku and qty int. Only clerks can create orders",
    "every type": "kitchen sink api: sinks have label, notes (text), count int, ratio float, "
    "price (decimal), active bool, made date, seen_at datetime, ref uuid, "
    "contact email (unique) and nickname (optional)",
    "graphql on mysql": "a products api with graphql and mysql: products have name and price",
    "events": "a ledger api with jwt: wallets have owner and email (unique); entries have "
    "wallet (required), amount (decimal) and memo. Publish entry and wallet changes to SQS",
    "choices": "a helpdesk api: tickets have title, status: open, pending or closed, and "
    "priority (low/medium/high, optional); comments belong to tickets and have body (text)",
    "okta sign-in, graphql": "a clinic api with graphql and Okta sign-in, roles: vet and "
    "clerk. patients have name and email (unique); visits have patient (required) and notes "
    "(text). Only vets can delete visits",
}
PYTHON = sys.executable


def generate(text: str, out: Path) -> Path:
    spec = parse_request(text).spec
    assert spec is not None, text
    write_service(spec, out)
    return out


def run_generated_tests(project: Path, database_url: str | None = None) -> str:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    result = subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("label", SPECS)
def test_generated_service_passes_its_own_tests_on_sqlite(label, tmp_path):
    project = generate(SPECS[label], tmp_path / "service")
    assert (project / "tests/test_graphql.py").exists() == ("graphql" in label)
    summary = run_generated_tests(project)
    assert "passed" in summary and "failed" not in summary


def test_generated_ci_tests_the_database_the_spec_names(tmp_path):
    on_mysql = generate(SPECS["graphql on mysql"], tmp_path / "a") / ".github/workflows/ci.yml"
    assert "image: mariadb:11" in on_mysql.read_text()
    assert "mysql://root:root@127.0.0.1:3306/app" in on_mysql.read_text()
    assert "postgres" not in on_mysql.read_text()
    on_postgres = generate(SPECS["relations"], tmp_path / "b") / ".github/workflows/ci.yml"
    assert "image: postgres:16" in on_postgres.read_text()
    assert "mariadb" not in on_postgres.read_text()


def test_a_second_version_migrates_the_first_ones_rows(tmp_path, postgres_url):
    v1 = parse_request(
        "shop api: customers have name and email (unique); "
        "orders have customer (required) and total (decimal)"
    ).spec
    project = tmp_path / "service"
    write_service(v1, project)
    migrate(project, postgres_url)
    db_url = postgres_url
    with psycopg.connect(db_url, autocommit=True) as db:
        db.execute("INSERT INTO customers (name, email) VALUES ('Ada', 'ada@example.com')")
        db.execute("INSERT INTO orders (customer_id, total) VALUES (1, 12.50)")

    v2 = parse_change(
        v1,
        "add a status field to orders. add a Product entity with sku and "
        "price (decimal). make name unique",
    ).spec
    write_service(v2, project)
    assert (project / "migrations/versions/v0002.py").exists()
    migrate(project, postgres_url)
    with psycopg.connect(db_url) as db:
        assert db.execute("SELECT name, email FROM customers").fetchall() == [
            ("Ada", "ada@example.com")
        ]
        assert db.execute("SELECT customer_id, total::text, status FROM orders").fetchall() == [
            (1, "12.50", "")
        ]
        columns = {
            r[0]
            for r in db.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'products'"
            )
        }
        assert columns == {"id", "sku", "price"}
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == ("v0002",)
    # and the service's own tests pass on the migrated schema's code
    assert "failed" not in run_generated_tests(project)


def migrate(project: Path, database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    result = subprocess.run(
        [PYTHON, "-m", "alembic", "upgrade", "head"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_same_spec_same_bytes():
    spec = parse_request(SPECS["every type"]).spec
    assert render_service(spec) == render_service(spec)


@pytest.mark.parametrize("label", SPECS)
def test_generated_code_is_lint_clean(label, tmp_path):
    project = generate(SPECS[label], tmp_path / "service")
    ruff = [PYTHON, "-m", "ruff"]
    for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = subprocess.run([*ruff, *command], cwd=project, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_openapi_document_is_valid_and_documented(tmp_path):
    project = generate(SPECS["relations"], tmp_path / "service")
    dump = "import json; from app.main import app; print(json.dumps(app.openapi()))"
    result = subprocess.run(
        [PYTHON, "-c", dump],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": "sqlite://", "ENVIRONMENT": "development"},
        check=True,
    )
    document = json.loads(result.stdout)
    validate(document)
    operation = document["paths"]["/orders"]["post"]
    assert operation["summary"] == "Create a order"
    assert operation["tags"] == ["orders"]
    assert document["components"]["securitySchemes"]["OAuth2PasswordBearer"]["type"] == "oauth2"
    every_refusal = {"401", "403", "404", "409", "422"}
    assert every_refusal <= set(document["paths"]["/orders/{row_id}"]["delete"]["responses"])
    assert {"400", "401", "409", "413", "422"} <= set(operation["responses"])
    assert {"401", "429"} <= set(document["paths"]["/auth/token"]["post"]["responses"])
    assert {"sort", "total", "status", "customer_id"} <= {
        p["name"] for p in document["paths"]["/orders"]["get"]["parameters"]
    }


def test_shipmate_scaffold_writes_a_repository(tmp_path):
    result = subprocess.run(
        [
            PYTHON,
            "-m",
            "cli.main",
            "scaffold",
            "build a todo api",
            "--out",
            str(tmp_path / "todo"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"files to {tmp_path / 'todo'}")
    assert (tmp_path / "todo/Dockerfile").exists()
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x; rm -rf /", "entities": []}')
    result = subprocess.run(
        [
            PYTHON,
            "-m",
            "cli.main",
            "scaffold",
            "--spec",
            str(bad),
            "--out",
            str(tmp_path / "bad"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "must be kebab-case" in result.stderr
    assert not (tmp_path / "bad").exists()


def test_published_changes_arrive_on_a_real_sqs_queue(tmp_path, settings):
    project = generate(SPECS["events"], tmp_path / "service")
    sqs = boto3.client(
        "sqs", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url
    )
    queue = sqs.create_queue(QueueName=f"ledger-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/ledger.db",
        "JWT_SECRET": "a-ledger-secret-of-32-bytes-or-more",
        "FIRST_ADMIN_USERNAME": "admin",
        "FIRST_ADMIN_PASSWORD": "ledger-pw",
        "EVENTS_QUEUE_URL": queue,
        "AWS_ENDPOINT_URL": settings.aws_endpoint_url,
        "AWS_REGION": settings.aws_region,
    }
    with serving(project, env) as base:
        token = httpx.post(
            f"{base}/auth/token", data={"username": "admin", "password": "ledger-pw"}
        ).json()["access_token"]
        web = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
        wallet = web.post("/wallets", json={"owner": "Ada", "email": "ada@example.com"})
        assert wallet.status_code == 201, wallet.text
        entry = web.post(
            "/entries", json={"wallet_id": wallet.json()["id"], "amount": "12.50", "memo": "tea"}
        ).json()
        assert web.patch(f"/entries/{entry['id']}", json={"memo": "coffee"}).status_code == 200
        assert web.delete(f"/entries/{entry['id']}").status_code == 204

        received: list[dict] = []

        def all_four_arrived() -> bool:  # the relay sends them after their commits
            answer = sqs.receive_message(
                QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            )
            received.extend(answer.get("Messages", []))
            return len(received) >= 4

        eventually_sync(all_four_arrived, what="four events on the queue")
    bodies = [json.loads(m["Body"]) for m in received]
    assert sorted((b["entity"], b["action"]) for b in bodies) == [
        ("Entry", "created"),
        ("Entry", "deleted"),
        ("Entry", "updated"),
        ("Wallet", "created"),
    ]
    updated = next(b for b in bodies if b["action"] == "updated")
    assert updated["id"] == entry["id"] and updated["data"]["memo"] == "coffee"
    attributes = next(m for m in received if "Wallet" in m["Body"])["MessageAttributes"]
    assert attributes["entity"]["StringValue"] == "Wallet"
    assert attributes["action"]["StringValue"] == "created"


def test_the_image_runs_and_refuses_a_placeholder_secret(tmp_path, settings, docker_ready):
    from activities import images

    project = generate(SPECS["relations"], tmp_path / "service")
    images.prepare_build_context(settings, project)
    tag = f"scaffold-test:{uuid.uuid4().hex[:8]}"
    images.build_image(settings, project, tag, "runtime", lambda line: None)
    engine = docker.from_env()
    try:
        refused = engine.containers.run(
            tag,
            environment={"ENVIRONMENT": "prod", "DATABASE_URL": "sqlite:////data/s.db"},
            detach=True,
        )
        assert refused.wait(timeout=60)["StatusCode"] != 0
        assert "JWT_SECRET must be set to a real secret" in refused.logs().decode()
        refused.remove()
        running = engine.containers.run(
            tag,
            detach=True,
            ports={"8000/tcp": ("127.0.0.1", None)},
            environment={
                "ENVIRONMENT": "prod",
                "DATABASE_URL": "sqlite:////data/shop.db",
                "JWT_SECRET": "a-real-secret-of-some-length",
                "FIRST_ADMIN_USERNAME": "admin",
                "FIRST_ADMIN_PASSWORD": "pw-admin",
            },
        )
        running.reload()
        base = f"http://127.0.0.1:{running.attrs['NetworkSettings']['Ports']['8000/tcp'][0]['HostPort']}"

        def healthy() -> bool:
            running.reload()
            assert running.status == "running", running.logs().decode()[-3000:]
            try:
                return httpx.get(f"{base}/health").status_code == 200
            except httpx.TransportError:
                return False

        eventually_sync(healthy, interval=0.2, what=f"the container's {base}/health")
        token = httpx.post(
            f"{base}/auth/token", data={"username": "admin", "password": "pw-admin"}
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        created = httpx.post(
            f"{base}/customers", headers=headers, json={"name": "Ada", "email": "ada@example.com"}
        )
        assert created.status_code == 201, created.text
        assert httpx.get(f"{base}/customers").status_code == 401
        running.remove(force=True)
    finally:
        engine.images.remove(tag, force=True)
