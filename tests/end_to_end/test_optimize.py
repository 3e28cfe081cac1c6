"""Optimizer mode with real parts: the Slack emulator, the bot, Temporal, the worker's real
stages, Locust, a deployed service on the local Docker target and a PostgreSQL that keeps
statement statistics (as `shipmate dev` runs it).

What a person checks: the card's figures and endpoint table, the chart in the thread, the
slow spot the database's statistics show, and plain refusals for what cannot be loaded.
"""

from __future__ import annotations

import re
import uuid
from contextlib import asynccontextmanager

import httpx
import psycopg
import pytest
from pydantic import SecretStr

from activities.deploy_targets.local import LocalDocker
from activities.deploy_targets.naming import database_identifier
from activities.optimize.target import TargetRefused, find_target
from cli.worker import build_workers
from slack_emulator.server import EmulatorConfig, EmulatorServer
from testkit.chat import TOKENS, Chat, actions, letters, start_bot
from testkit.databases import postgres_with_statements
from workflows.optimize_models import OptimizeRequest
from workflows.stage_models import TeardownInput

SLOW = 420  # a build and a deploy come first
ROWS = 60_000  # enough that a full scan shows in the statistics
PNG = b"\x89PNG\r\n\x1a\n"


@asynccontextmanager
async def slack_and_worker(client, settings):
    emulator = await EmulatorServer(EmulatorConfig(port=0)).start()
    local = settings.model_copy(
        update={
            "task_queue": f"optimize-{uuid.uuid4().hex[:6]}",
            "slack_bot_token": SecretStr(TOKENS["bot"]),
            "slack_app_token": SecretStr(TOKENS["app"]),
            "slack_api_url": f"{emulator.base_url}/api/",
        }
    )
    async with build_workers(client, local):
        handler = await start_bot(local, emulator)
        try:
            yield Chat(emulator), local
        finally:
            await handler.close_async()
            await emulator.stop()


@pytest.fixture(scope="module")
def statements_postgres():
    with postgres_with_statements(range(28300, 28400)) as admin:
        yield admin


@pytest.fixture()
async def optimize_stack(client, settings, docker_ready, statements_postgres):
    short = settings.model_copy(
        update={
            "postgres_url": statements_postgres,
            "load_seconds": 5,
            "load_users": 5,
            "load_max_seconds": 6,
            "load_seed_seconds": 2,
        }
    )
    async with slack_and_worker(client, short) as (chat, local):
        yield chat, local, client


async def shared_files(chat: Chat, ts: str) -> dict[str, bytes]:
    replies = await chat.thread(ts)
    files = [f for r in replies if r.get("user") == "U0SHIPMATE" for f in r.get("files", [])]
    got = {}
    async with httpx.AsyncClient() as web:
        for shared in files:
            answer = await web.get(
                shared["url_private_download"],
                headers={"Authorization": f"Bearer {TOKENS['bot']}"},
                timeout=30,
            )
            got[shared["name"]] = answer.content
    return got


async def test_a_load_test_measures_a_deployed_service_and_names_its_slow_spot(optimize_stack):
    chat, settings, client = optimize_stack
    name = f"task{letters()}"
    service = f"{name}-api"
    ts = await chat.say(
        "U0ALICE",
        f"<@U0SHIPMATE> build a {name} api with PostgreSQL and no auth: "
        f"{name}s have title, owner and points (int)",
    )
    try:
        card = await chat.card(ts, "waiting for approval", timeout=SLOW)
        await chat.click("U0BOB", card["ts"], "approve")
        await chat.wait_for(ts, lambda r: "is live in *staging*" in r["text"], timeout=180)
        _fill(settings, service, f"{name}s")

        asked = await chat.say(
            "U0ALICE", f"<@U0SHIPMATE> load test {service} in staging for 1 minute"
        )
        card = await chat.card(asked, "measured", timeout=300)
        shown = str(card["blocks"])
        assert "requests/s" in card["text"] and f"GET /{name}s" in shown
        assert "60 s asked; 6 s is the most" in shown  # clamped, and said
        assert ":snail: *missing index*" in shown, shown
        files = await shared_files(chat, asked)
        [chart] = [data for name, data in files.items() if name.startswith(f"load-{service}-")]
        assert chart.startswith(PNG) and len(chart) > 10_000
        done = await chat.wait_for(asked, lambda r: "the load test of" in r["text"])
        assert "<@U0ALICE>" in done["text"]

        # Apply: a change adding the index, through its gate; then the same load again.
        assert "optimize_apply" in actions(card)
        column = re.search(rf"`{name}s\((\w+)\)`", shown).group(1)
        await chat.click("U0ALICE", card["ts"], "optimize_apply")
        change = await chat.card(asked, "waiting for approval", timeout=SLOW)
        await chat.click("U0BOB", change["ts"], "approve")
        again = await chat.wait_for(
            asked, lambda r: "Before and after" in str(r.get("blocks")), timeout=SLOW
        )
        assert "p95 before" in str(again["blocks"])
        assert (column, f"ix_{name}s_{column}") in _indexes(settings, service, f"{name}s")
        said = await chat.wait_for(asked, lambda r: "measured again" in r["text"])
        assert "<@U0ALICE>" in said["text"]

        refused = await chat.say("U0ALICE", f"<@U0SHIPMATE> load test {service} in production")
        card = await chat.card(refused, "not run", timeout=120)
        assert f"{service} is not deployed to prod; it runs in staging" in str(card["blocks"])

        request = OptimizeRequest(service=service, environment="staging", requester="U0ALICE")
        elsewhere = settings.model_copy(
            update={"local_target_dir": settings.local_target_state.with_name("elsewhere")}
        )
        with pytest.raises(TargetRefused, match="not served by this installation's router"):
            await find_target(elsewhere, client, request)
    finally:
        LocalDocker().tear_down(
            settings, TeardownInput(service=service, environment="staging"), heartbeat=print
        )


async def test_what_cannot_be_loaded_is_refused_in_plain_words(optimize_stack):
    chat, _, _ = optimize_stack
    ts = await chat.say("U0ALICE", "<@U0SHIPMATE> load test nosuchthing-api in staging")
    answer = await chat.wait_for(ts, lambda r: r["user"] == "U0SHIPMATE")
    assert "I know no service called `nosuchthing-api`" in answer["text"]

    ts = await chat.say("U0ALICE", "<@U0SHIPMATE> load test http://10.1.2.3:8080/ for 30 s")
    answer = await chat.wait_for(ts, lambda r: r["user"] == "U0SHIPMATE")
    assert "Which service should I load test?" in answer["text"]


def _indexes(settings, service: str, table: str) -> set[tuple[str, str]]:
    """(column, index) pairs of the service's table, as PostgreSQL has them."""
    admin = settings.postgres_url.rsplit("/", 1)[0]
    database = database_identifier(settings, service, "staging")
    with psycopg.connect(f"{admin}/{database}", connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT a.attname, i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_attribute a ON a.attrelid = t.oid "
            "AND a.attnum = ANY(x.indkey) WHERE t.relname = %s",
            (table,),
        ).fetchall()
    return {(column, index) for column, index in rows}


def _fill(settings, service: str, table: str) -> None:
    """Rows straight into the service's database: the API would take minutes for these."""
    admin = settings.postgres_url.rsplit("/", 1)[0]
    database = database_identifier(settings, service, "staging")
    with psycopg.connect(f"{admin}/{database}", connect_timeout=10, autocommit=True) as conn:
        conn.execute(
            f"INSERT INTO {table} (title, owner, points) "  # noqa: S608 - our own test's names
            f"SELECT 'task ' || g, 'owner' || (g % 400), g % 50 "
            f"FROM generate_series(1, {ROWS}) g"
        )
        conn.execute(f"ANALYZE {table}")
