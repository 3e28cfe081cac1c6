"""What a generated service promises about sign-in and its database, checked on one running
service (uvicorn, real PostgreSQL): token lifetime, argon2 hashes, CORS origins from a
setting, pre-pinged connections, GraphQL behind the same sign-in, and a README whose run
instructions migrate before serving."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import jwt
import psycopg
import pytest
from argon2 import PasswordHasher

from cli import devstack
from testkit.waiting import eventually_sync
from tests.activities.test_scaffold import PYTHON, generate, serving

SPEC = "a products api with graphql and jwt on postgres: products have name and price"
SECRET = "a-security-test-secret-of-32-bytes-or-more"
ADMIN = {"username": "admin", "password": "an-admin-password-nobody-guesses"}
ALLOWED_ORIGIN = "https://app.example.com"
PRODUCTS = "{ products { id name price } }"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return generate(SPEC, tmp_path_factory.mktemp("products") / "service")


@pytest.fixture(scope="module")
def database(database_servers):
    with database_servers.postgres_database() as url:
        yield url


def service_env(database: str, **more: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database,
        "ENVIRONMENT": "production",
        "JWT_SECRET": SECRET,
        "FIRST_ADMIN_USERNAME": ADMIN["username"],
        "FIRST_ADMIN_PASSWORD": ADMIN["password"],
        "CORS_ORIGINS": f'["{ALLOWED_ORIGIN}"]',
        **more,
    }


@pytest.fixture(scope="module")
def service(project, database):
    with serving(project, service_env(database)) as base:
        yield base


def sign_in(base: str) -> str:
    answer = httpx.post(f"{base}/auth/token", data=ADMIN)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_lasts_15_minutes(service):
    """The expiry a real token carries is 15 minutes after it was issued, and the
    signature is the service's own."""
    before = time.time()
    token = sign_in(service)
    after = time.time()
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp"]})
    assert int(before) + 15 * 60 <= claims["exp"] <= after + 15 * 60
    assert httpx.get(f"{service}/auth/me", headers=bearer(token)).status_code == 200


def test_a_token_is_refused_once_its_lifetime_is_over(project, database):
    """The same code with a six-second lifetime: its real token works, then after those
    seconds REST and GraphQL both refuse it (the 15 minutes are the same check, later)."""
    env = service_env(database, ACCESS_TOKEN_MINUTES="0.1")
    with serving(project, env) as base:
        token = sign_in(base)
        expires = jwt.decode(token, SECRET, algorithms=["HS256"])["exp"]
        assert expires - time.time() <= 6
        assert httpx.get(f"{base}/products", headers=bearer(token)).status_code == 200
        time.sleep(max(0.0, expires - time.time()) + 1.5)
        expired = httpx.get(f"{base}/products", headers=bearer(token))
        assert expired.status_code == 401, expired.text
        assert expired.headers["WWW-Authenticate"] == "Bearer"
        query = httpx.post(f"{base}/graphql", json={"query": PRODUCTS}, headers=bearer(token))
        assert query.status_code == 401, query.text


def test_passwords_are_stored_as_argon2_hashes(service, database):
    """The first admin's row in PostgreSQL holds an argon2 hash of the password, never
    the password."""
    sign_in(service)  # the account exists and its hash verifies through the service
    with psycopg.connect(database) as db:
        (stored,) = db.execute(
            "SELECT password_hash FROM accounts WHERE username = %s", (ADMIN["username"],)
        ).fetchone()
    assert stored.startswith("$argon2")
    assert ADMIN["password"] not in stored
    assert PasswordHasher().verify(stored, ADMIN["password"])


def preflight(base: str, origin: str) -> httpx.Response:
    return httpx.options(
        f"{base}/products",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_cors_allows_only_the_origins_in_its_setting(service):
    """A browser at the origin named in CORS_ORIGINS may call the API; one elsewhere
    gets no Access-Control-Allow-Origin, so its browser blocks the call."""
    allowed = preflight(service, ALLOWED_ORIGIN)
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "authorization" in allowed.headers["Access-Control-Allow-Headers"].lower()

    elsewhere = preflight(service, "https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in elsewhere.headers

    token = sign_in(service)
    read = httpx.get(f"{service}/products", headers={**bearer(token), "Origin": ALLOWED_ORIGIN})
    assert read.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    other = httpx.get(
        f"{service}/products", headers={**bearer(token), "Origin": "https://evil.example.com"}
    )
    assert "Access-Control-Allow-Origin" not in other.headers


def test_a_connection_the_database_killed_costs_no_request(service, database):
    """PostgreSQL ends every connection the service's pool holds (as a restart or a
    failover would); the next requests still succeed, as the pool pings before use."""
    web = httpx.Client(base_url=service, headers=bearer(sign_in(service)))
    assert web.get("/products").status_code == 200  # the pool now holds a connection
    with psycopg.connect(database, autocommit=True) as admin:
        pids = [
            pid
            for (pid,) in admin.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
        assert pids, "the service holds no connection to kill"
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

        def all_gone() -> bool:
            alive = "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)"
            return admin.execute(alive, (pids,)).fetchone() == (0,)

        eventually_sync(all_gone, what="the service's connections terminated")
    answers = [web.get("/products"), web.post("/graphql", json={"query": PRODUCTS})]
    answers.append(web.post("/products", json={"name": "kettle", "price": "20.00"}))
    assert [a.status_code for a in answers] == [200, 200, 201], [a.text for a in answers]
    web.close()


def test_graphql_needs_the_same_sign_in_as_rest(service, database):
    """Without a valid token GraphQL answers 401 and runs nothing (queries, mutations,
    GET or POST); with the REST sign-in's token it answers."""
    create = 'mutation { create_product(data: {name: "%s", price: "2.50"}) { id name } }'
    anonymous = [
        httpx.post(f"{service}/graphql", json={"query": PRODUCTS}),
        httpx.get(f"{service}/graphql", params={"query": PRODUCTS}),
        httpx.post(f"{service}/graphql", json={"query": create % "sneaked in"}),
    ]
    forged = jwt.encode(
        {"sub": ADMIN["username"], "exp": int(time.time()) + 300},
        "someone-elses-secret-of-32-bytes-or-more",
        algorithm="HS256",
    )
    anonymous.append(
        httpx.post(f"{service}/graphql", json={"query": PRODUCTS}, headers=bearer(forged))
    )
    for refused in anonymous:
        assert refused.status_code == 401, refused.text
        assert "data" not in refused.json()
    with psycopg.connect(database) as db:
        sneaked = "SELECT count(*) FROM products WHERE name = 'sneaked in'"
        assert db.execute(sneaked).fetchone() == (0,)

    token = sign_in(service)
    made = httpx.post(
        f"{service}/graphql", json={"query": create % "teapot"}, headers=bearer(token)
    )
    assert made.status_code == 200, made.text
    assert "errors" not in made.json(), made.json()
    row = made.json()["data"]["create_product"]
    listed = httpx.post(f"{service}/graphql", json={"query": PRODUCTS}, headers=bearer(token))
    assert row["id"] in [p["id"] for p in listed.json()["data"]["products"]]
    rest = httpx.get(f"{service}/products/{row['id']}", headers=bearer(token))
    assert rest.json()["name"] == "teapot"


def run_section(readme: str) -> list[str]:
    """The commands under the README's `## Run`, without their comments."""
    section = readme.split("## Run", 1)[1].split("\n## ", 1)[0]
    commands = [line.strip() for line in section.splitlines() if line.startswith("    ")]
    return [c.split("  #", 1)[0].strip() for c in commands if c.strip()]


def test_following_the_readme_migrates_before_serving(project, tmp_path):
    """The README's run commands, in their order, give a service that is ready at once:
    the migration comes before the server, which then finds its tables."""
    readme_project = Path(shutil.copytree(project, tmp_path / "service"))
    commands = run_section((readme_project / "README.md").read_text())
    migrate = next(i for i, c in enumerate(commands) if c.startswith("alembic upgrade head"))
    serve = next(i for i, c in enumerate(commands) if c.startswith("uvicorn app.main:app"))
    assert migrate < serve, commands

    port = devstack.free_port()
    script = [
        # the dependencies are installed the way the other generated-service tests have them
        "true" if c.startswith("pip install") else c
        for c in commands
    ]
    script[serve] = f"exec {script[serve]} --port {port}"
    env = {**os.environ, "PATH": f"{Path(PYTHON).parent}:{os.environ['PATH']}"}
    env.pop("DATABASE_URL", None)
    env.pop("ENVIRONMENT", None)
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as output:
        shell = subprocess.Popen(
            ["bash", "-ec", "\n".join(script)],
            cwd=readme_project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # uvicorn --reload starts a worker of its own
        )

        def answering() -> httpx.Response | None:
            if shell.poll() is not None:
                output.seek(0)
                raise AssertionError(f"the commands stopped: {output.read().decode()[-3000:]}")
            try:
                return httpx.get(f"{base}/health")
            except httpx.TransportError:
                return None

        try:
            eventually_sync(answering, interval=0.3, what=f"{base}/health")
            ready = httpx.get(f"{base}/ready")
        finally:
            os.killpg(shell.pid, signal.SIGTERM)
            shell.wait(timeout=30)
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready"}


def test_a_settings_error_never_repeats_a_secret(project):
    """A refused configuration says what is missing, never the values it was given: the
    first admin's password once appeared in one (#29 item 7)."""
    planted = {"FIRST_ADMIN_PASSWORD": "planted-admin-pa55", "JWT_SECRET": "planted-jwt-" * 4}
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ENVIRONMENT")},
        "ENVIRONMENT": "production",
        "FIRST_ADMIN_USERNAME": "admin",
        **planted,
    }
    refused = subprocess.run(
        [PYTHON, "-c", "import app.settings"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "DATABASE_URL must be set" in refused.stderr
    assert "planted" not in refused.stderr + refused.stdout
