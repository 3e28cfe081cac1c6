"""The load engine against real services: a small FastAPI app under uvicorn, Locust in
its own process, and a generated service's OpenAPI document for the plan."""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from activities.optimize.load_plan import LoadPlan, PlannedCall, plan_calls
from activities.optimize.load_run import LoadError, _capped, run_load
from activities.scaffold.generator import write_service
from understanding import parse_request
from workflows.optimize_models import AGGREGATED, MAX_TIMELINE, LoadPoint

SECRET = "Bearer s3cret-token-that-must-not-leak"
APP = """
import datetime as dt
import itertools
from typing import Annotated, Literal

from fastapi import FastAPI, Header, HTTPException, Path, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

app = FastAPI()
NEXT = itertools.count(1)
ROWS = {}


class TodoCreate(BaseModel):
    title: str = Field(max_length=40)
    status: Literal["open", "done"]
    due: dt.date
    owner_email: str = Field(max_length=80, json_schema_extra={"format": "email"})


class TodoPublic(TodoCreate):
    id: int


def _add(body):
    row_id = next(NEXT)
    ROWS[row_id] = {**body, "id": row_id}
    return ROWS[row_id]


for i in range(5):
    _add({"title": f"todo {i}", "status": "open", "due": "2026-01-01", "owner_email": "a@b.test"})


@app.get("/todos", response_model=list[TodoPublic])
def list_todos(
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    sort: Literal["id", "-id", "title", "-title", "due", "-due"] = "id",
    status: Literal["open", "done"] | None = None,
    authorization: Annotated[str | None, Header()] = None,
):
    if authorization != "SECRET":
        raise HTTPException(401, "who are you?")
    rows = [r for r in ROWS.values() if status is None or r["status"] == status]
    rows.sort(key=lambda r: r[sort.lstrip("-")], reverse=sort.startswith("-"))
    return rows[offset : offset + limit]


@app.post("/todos", response_model=TodoPublic, status_code=201)
def create_todo(body: TodoCreate):
    if any(r["title"] == body.title for r in ROWS.values()):
        raise HTTPException(409, "title taken")
    return _add(body.model_dump(mode="json"))


@app.get("/todos/{row_id}", response_model=TodoPublic)
def read_todo(row_id: Annotated[int, Path(ge=1)]):
    if row_id not in ROWS:
        raise HTTPException(404, "no such todo")
    return ROWS[row_id]


@app.get("/boom", include_in_schema=False)
def boom():
    return PlainTextResponse("on purpose", status_code=500)


@app.get("/health", response_class=PlainTextResponse)
def health():
    return "ok"
""".replace("SECRET", SECRET)


def _free_port() -> int:
    """A free port in 28100-28179, the window these tests may use."""
    for port in random.sample(range(28100, 28180), 80):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port in 28100-28179")


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator[str]:
    """The app above under uvicorn; its base URL once it answers."""
    folder = tmp_path_factory.mktemp("load-app")
    (folder / "todo_app.py").write_text(APP)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "uvicorn", "todo_app:app", "--port", str(port)]
    command += ["--app-dir", str(folder), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            assert server.poll() is None, "the test app exited"
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def _load(target: str, plan: LoadPlan, work_dir: Path, seconds: int = 4, **options):
    beats: list[str] = []
    result = run_load(
        target,
        plan,
        users=options.get("users", 4),
        seconds=seconds,
        spawn_rate=options.get("spawn_rate", 20),
        headers=options.get("headers", {"Authorization": SECRET}),
        max_error_ratio=0.5,
        heartbeat=beats.append,
        work_dir=work_dir,
    )
    return result, beats


def test_every_planned_call_is_measured_with_sane_figures(service, tmp_path):
    plan = plan_calls(httpx.get(f"{service}/openapi.json", timeout=5).json())
    names = {call.name for call in plan.calls}
    assert names == {
        "GET /todos",
        "GET /todos?status",
        "GET /todos?sort",
        "GET /todos/{id}",
        "POST /todos",
    }

    result, beats = _load(service, plan, tmp_path, seconds=5)

    by_name = {e.name: e for e in result.endpoints}
    assert names <= set(by_name), by_name.keys()
    for name in names:
        figures = by_name[name]
        assert figures.requests > 0, name
        assert figures.failures == 0, name
        assert 0 < figures.p50_ms <= figures.p95_ms <= figures.p99_ms, figures
    assert result.total.name == AGGREGATED
    assert result.total.requests >= sum(by_name[n].requests for n in names)
    assert result.total.rps > 0
    p95s = [e.p95_ms for e in result.endpoints]
    assert p95s == sorted(p95s, reverse=True)  # the slowest first
    assert result.stopped_early == ""
    assert 3 <= result.seconds <= 7
    whole = [p for p in result.timeline if p.endpoint == AGGREGATED]
    assert len(whole) >= 3 and max(p.rps for p in whole) > 0
    assert {p.endpoint for p in result.timeline} >= names
    assert beats and all(SECRET not in beat for beat in beats)
    assert not (tmp_path / "load-settings.json").exists()  # the file with the token is gone
    # The plan's created rows were used: the app holds more than its 5 seeded rows.
    assert httpx.get(f"{service}/todos/6", timeout=5).status_code == 200


def test_a_refusal_of_a_guessed_value_is_counted_apart_not_as_a_failure(service, tmp_path):
    guess = PlannedCall(
        name="POST /todos",
        kind="create",
        method="POST",
        path="/todos",
        weight=1,
        collection="/todos",
        body={"title": "always the same", "status": "open", "due": "2026-01-31"},
    )
    result, _ = _load(service, LoadPlan(calls=[guess]), tmp_path, seconds=3, users=2)

    refused = {e.name: e for e in result.endpoints}["POST /todos [422]"]
    assert refused.requests > 0 and refused.failures == 0
    assert result.total.failures == 0 and result.stopped_early == ""


def test_a_service_failing_under_load_stops_the_run_early_and_says_why(service, tmp_path):
    boom = PlannedCall(
        name="GET /boom", kind="list", method="GET", path="/boom", weight=1, collection="/boom"
    )
    started = time.monotonic()
    result, _ = _load(service, LoadPlan(calls=[boom]), tmp_path, seconds=30)

    assert time.monotonic() - started < 15
    assert result.seconds < 10
    assert "HTTP 500 on GET /boom" in result.stopped_early
    assert "failed" in result.stopped_early
    assert SECRET not in result.stopped_early
    figures = {e.name: e for e in result.endpoints}["GET /boom"]
    assert figures.failures == figures.requests > 0


def test_wrong_credentials_stop_the_run_too(service, tmp_path):
    listing = plan_calls(httpx.get(f"{service}/openapi.json", timeout=5).json())
    only = LoadPlan(calls=[c for c in listing.calls if c.name == "GET /todos"])
    result, _ = _load(service, only, tmp_path, seconds=30, headers={"Authorization": "nope"})

    assert "refused the credentials" in result.stopped_early
    assert "HTTP 401 on GET /todos [401]" in result.stopped_early


def test_a_target_nobody_listens_on_is_a_clear_error_without_the_secret(tmp_path):
    port = _free_port()
    plan = LoadPlan(
        calls=[
            PlannedCall(
                name="GET /x", kind="list", method="GET", path="/x", weight=1, collection="/x"
            )
        ]
    )
    with pytest.raises(LoadError) as raised:
        _load(f"http://127.0.0.1:{port}", plan, tmp_path, headers={"Authorization": SECRET})

    message = str(raised.value)
    assert message.startswith(f"nothing answers at http://127.0.0.1:{port}")
    assert "s3cret" not in message and "Traceback" not in message


def test_a_locust_that_cannot_start_says_why_in_a_few_lines(service, tmp_path):
    plan = plan_calls(httpx.get(f"{service}/openapi.json", timeout=5).json())
    with pytest.raises(LoadError) as raised:
        _load(service, plan, tmp_path, spawn_rate="many", headers={"Authorization": SECRET})

    message = str(raised.value)
    assert message.startswith("Locust did not run (exit code ")
    assert "spawn" in message
    assert "Traceback" not in message and "s3cret" not in message
    assert len(message) < 2000


def test_the_plan_of_a_generated_service(tmp_path):
    text = (
        "shop api with jwt, roles: admin and clerk. customers have name and email (unique); "
        "orders have customer (required), total (decimal) and status (open/paid); "
        "order items have order, sku and qty int"
    )
    project = tmp_path / "service"
    write_service(parse_request(text).spec, project)
    dump = "import json; from app.main import app; print(json.dumps(app.openapi()))"
    environment = {**os.environ, "DATABASE_URL": "sqlite://", "ENVIRONMENT": "development"}
    document = json.loads(
        subprocess.run(
            [sys.executable, "-c", dump],
            cwd=project,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    )

    calls = {call.name: call for call in plan_calls(document).calls}

    for entity in ("/customers", "/orders", "/order-items"):
        assert {f"GET {entity}", f"GET {entity}/{{id}}", f"POST {entity}"} <= set(calls)
        assert f"GET {entity}?sort" in calls
    assert not [name for name in calls if "/auth" in name or "/health" in name]
    # nor the admins' audit trail, nor a privacy request (an erasure under load!)
    assert not [name for name in calls if "/audit" in name or "/privacy" in name]
    assert not [c for c in calls.values() if c.method not in ("GET", "POST")]
    assert calls["GET /orders?status"].query == {"status": "open"}  # a choice, valid
    assert calls["GET /customers?sort"].query["sort"] in ("name", "email")
    order = calls["POST /orders"]
    assert order.body == {"total": "12.50", "status": "open"}
    assert [(r.name, r.collection, r.required) for r in order.refs] == [
        ("customer_id", "/customers", True)
    ]
    customer = calls["POST /customers"].body
    assert customer is not None and "@" in customer["email"]
    assert {f.name: f.kind for f in calls["POST /customers"].fresh}["email"] == "email"
    assert calls["POST /order-items"].refs[0].collection == "/orders"
    reads = sum(c.weight for c in calls.values() if c.method == "GET")
    writes = sum(c.weight for c in calls.values() if c.method == "POST")
    assert reads > 5 * writes

    capped = [c.name for c in plan_calls(document, max_calls=4).calls]
    assert capped == ["GET /customers", "GET /customers/{id}", "GET /orders", "GET /order-items"]


def test_a_long_run_keeps_every_aggregated_point_and_thins_the_endpoints_evenly():
    names = [AGGREGATED, *(f"GET /things{i}" for i in range(5))]
    series = {n: [LoadPoint(endpoint=n, at_s=float(s)) for s in range(200)] for n in names}

    timeline = _capped(series)

    assert len(timeline) <= MAX_TIMELINE
    whole = [p.at_s for p in timeline if p.endpoint == AGGREGATED]
    assert whole == [float(s) for s in range(200)]
    one = [p.at_s for p in timeline if p.endpoint == "GET /things3"]
    assert len(one) == (MAX_TIMELINE - 200) // 5
    assert one[0] == 0.0 and one[-1] == 199.0
    gaps = {round(b - a) for a, b in zip(one, one[1:], strict=False)}
    assert gaps <= {2, 3}
