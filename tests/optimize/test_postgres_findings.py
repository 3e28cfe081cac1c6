"""What is slow in a real PostgreSQL, found from its own statistics and plans.

The server is started the way `shipmate dev` starts its own (cli.dev_postgres, with
pg_stat_statements preloaded), seeded like a generated service's tables and queried the
way such a service queries them; the machine's own server, which does not preload the
library, stands for one where statement statistics are off.
"""

from __future__ import annotations

import random

import psycopg
import pytest

from activities.optimize import postgres_findings as findings
from testkit.databases import postgres_with_statements
from workflows.optimize_models import EndpointStats, LoadResult, SpotKind

MACHINE_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"  # no pg_stat_statements
PORTS = range(28200, 28300)
TODOS = 50_000
USERS = 1_000
OWNERS = 500  # distinct values of the unindexed filter column
PAGE = 20

LIST = "SELECT todos.id, todos.title, todos.owner, todos.done, todos.user_id FROM todos"
PAGE_OF = "LIMIT %s::INTEGER OFFSET %s::INTEGER"  # as SQLAlchemy's psycopg dialect writes it
BY_OWNER = f"{LIST} WHERE todos.owner = %s::VARCHAR ORDER BY todos.id ASC, todos.id {PAGE_OF}"
NEWEST = f"{LIST} ORDER BY todos.created_at DESC, todos.id {PAGE_OF}"
PAGED = f"{LIST} ORDER BY todos.id ASC, todos.id {PAGE_OF}"
USER = (
    "SELECT users.id AS users_id, users.name AS users_name \n"
    "FROM users \nWHERE users.id = %s::INTEGER"
)
SCHEMA = f"""
CREATE TABLE users (id serial PRIMARY KEY, name varchar(255) NOT NULL);
CREATE TABLE todos (
    id serial PRIMARY KEY, title varchar(255) NOT NULL, owner varchar(255),
    done boolean NOT NULL, created_at timestamptz NOT NULL,
    user_id int NOT NULL REFERENCES users (id)
);
CREATE INDEX ix_todos_user_id ON todos (user_id);
INSERT INTO users (name) SELECT 'user ' || g FROM generate_series(1, {USERS}) g;
INSERT INTO todos (title, owner, done, created_at, user_id)
SELECT 'todo ' || g, 'owner' || (g % {OWNERS}), g % 3 = 0,
       now() - g * interval '1 minute', 1 + g % {USERS}
FROM generate_series(1, {TODOS}) g;
ANALYZE;
"""


@pytest.fixture(scope="module")
def database() -> str:
    """A server of the module's own, as `shipmate dev` runs it, with a seeded database."""
    with postgres_with_statements(PORTS) as admin:
        with psycopg.connect(admin, connect_timeout=10, autocommit=True) as conn:
            conn.execute("CREATE DATABASE todo_app")
        url = admin.rsplit("/", 1)[0] + "/todo_app"
        with psycopg.connect(url, connect_timeout=10, autocommit=True) as conn:
            conn.execute(SCHEMA)
        yield url


def _serve(url: str, lists: int, by_owner: int, newest: int, reads: int) -> None:
    """What a service with a lazy-loaded `user` does: every list loads each listed todo's
    user on its own (once per user, as a session's identity map does)."""
    rng = random.Random(7)
    with psycopg.connect(url, connect_timeout=10, autocommit=True) as conn:

        def listed(query: str, *params) -> None:
            rows = conn.execute(query, params).fetchall()
            for user_id in dict.fromkeys(row[4] for row in rows):
                conn.execute(USER, (user_id,)).fetchone()

        for n in range(lists):
            listed(PAGED, PAGE, n * PAGE)
        for _ in range(by_owner):
            listed(BY_OWNER, f"owner{rng.randrange(OWNERS)}", PAGE, 0)
        for n in range(newest):
            listed(NEWEST, PAGE, n * PAGE)
        for _ in range(reads):
            conn.execute(USER, (rng.randrange(1, USERS),)).fetchone()


def _load(lists: int, by_owner: int, newest: int, reads: int) -> LoadResult:
    counts = {
        "GET /todos": lists,
        "GET /todos?owner": by_owner,
        "GET /todos?sort": newest,
        "GET /users/{id}": reads,
    }
    endpoints = [EndpointStats(name=name, requests=n) for name, n in counts.items() if n]
    return LoadResult(target="http://127.0.0.1:1", seconds=30, users=5, endpoints=endpoints)


def _spots(spots, kind: SpotKind, table: str):
    return [s for s in spots if s.kind == kind and s.table == table]


def test_names_the_missing_index_and_the_n_plus_one_then_sees_the_index_work(database):
    assert findings.reset_statements(database) is True
    _serve(database, lists=40, by_owner=150, newest=30, reads=30)
    spots = findings.find_slow_spots(database, _load(40, 150, 30, 30))

    by_owner = [s for s in _spots(spots, SpotKind.missing_index, "todos") if s.columns == ["owner"]]
    assert len(by_owner) == 1, spots
    assert by_owner[0].change == "add an index on todos(owner)"
    assert by_owner[0].endpoint == "GET /todos?owner"
    assert by_owner[0].calls == 150 and by_owner[0].mean_ms > 0
    assert "150 calls" in by_owner[0].evidence and "rows" in by_owner[0].evidence
    assert "$1" in by_owner[0].statement and "owner1" not in by_owner[0].statement

    newest = [
        s for s in _spots(spots, SpotKind.missing_index, "todos") if s.columns == ["created_at"]
    ]
    assert len(newest) == 1, spots
    assert "Seq Scan on todos" in newest[0].evidence and "50,000 rows" in newest[0].evidence

    (n_plus_one,) = _spots(spots, SpotKind.n_plus_one, "users")
    assert n_plus_one.endpoint == "GET /todos"
    assert n_plus_one.change.startswith("load user with the list")
    assert "selectinload" in n_plus_one.change
    assert n_plus_one.calls > 10 * 30 and "220 times" in n_plus_one.evidence
    assert all(len(s.statement) <= 500 for s in spots)
    costs = [s.calls * s.mean_ms for s in spots]
    assert all(a >= b - 0.01 for a, b in zip(costs, costs[1:], strict=False))

    # without the load's figures, the list statements' own calls stand for the lists
    unnamed = findings.find_slow_spots(database, LoadResult(target="x", seconds=30, users=5))
    (counted,) = _spots(unnamed, SpotKind.n_plus_one, "users")
    assert "the list of todos was read 220 times" in counted.evidence, counted

    with psycopg.connect(database, connect_timeout=10, autocommit=True) as conn:
        conn.execute("CREATE INDEX ix_todos_owner ON todos (owner)")
        conn.execute("ANALYZE todos")
    assert findings.reset_statements(database) is True
    _serve(database, lists=0, by_owner=150, newest=0, reads=0)
    after = findings.find_slow_spots(database, _load(0, 150, 0, 0))
    assert not _spots(after, SpotKind.missing_index, "todos"), after


def test_a_few_by_key_reads_are_not_an_n_plus_one(database):
    """Reads of one row each, as many as the gets that asked for them, are no N+1."""
    assert findings.reset_statements(database) is True
    _serve(database, lists=0, by_owner=0, newest=0, reads=200)
    spots = findings.find_slow_spots(database, _load(0, 0, 0, 200))
    assert not [s for s in spots if s.kind == SpotKind.n_plus_one], spots


def test_a_server_without_the_library_says_statistics_are_off():
    assert findings.reset_statements(MACHINE_POSTGRES) is False
    with pytest.raises(findings.StatementsOff, match="shared_preload_libraries"):
        findings.find_slow_spots(MACHINE_POSTGRES, _load(1, 0, 0, 0))
