"""What is slow in a service's PostgreSQL database, read from the database itself.

A load test says which endpoints are slow; pg_stat_statements says which statements the
time went to, and each one's generic plan says why: a full scan where an index would do,
or one small query per listed row (an N+1). Plans are made with PREPARE under
force_generic_plan in a read-only transaction that is rolled back: PostgreSQL 15 has no
EXPLAIN (GENERIC_PLAN), nothing runs, and no literal value is ever needed or shown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import psycopg

from workflows.optimize_models import AGGREGATED, MAX_SPOTS, LoadResult, SlowSpot, SpotKind

CONNECT_TIMEOUT = 10  # seconds
PLAN_TIMEOUT = "5s"  # each PREPARE or EXPLAIN; a plan takes milliseconds
READ = 200  # statements read, by total time: an N+1's query is cheap, so it may rank low
PLANNED = 10  # the slowest SELECTs planned
MIN_ROWS = 5000  # a full read of a smaller table costs little
MIN_SHARE = 0.05  # an index walk reading this share of a table per call reads too much
MIN_PER_LIST = 3  # by-key queries per list request from which a list is an N+1
STATEMENT_CHARS = 500
TURN_ON = (
    "add pg_stat_statements to shared_preload_libraries (postgresql.conf, or the "
    "database's parameter group on RDS) and restart the server"
)

DB_ID = "(SELECT oid FROM pg_database WHERE datname = current_database())"
STATEMENTS = f"""
SELECT query, calls, total_exec_time, shared_blks_hit + shared_blks_read
FROM pg_stat_statements WHERE dbid = {DB_ID} AND calls > 0
ORDER BY total_exec_time DESC LIMIT %s"""
TABLES = """
SELECT c.relname::text, greatest(c.reltuples, coalesce(s.n_live_tup, 0))::bigint,
       (pg_relation_size(c.oid) / current_setting('block_size')::int)::bigint,
       array(SELECT a.attname::text FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
       array(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a
             ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = c.oid),
       array(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a
             ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
             WHERE i.indrelid = c.oid AND i.indisprimary),
       array(SELECT array[a.attname::text, t.relname::text] FROM pg_constraint k
             JOIN pg_class t ON t.oid = k.confrelid JOIN pg_attribute a
             ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
             WHERE k.conrelid = c.oid AND k.contype = 'f' AND cardinality(k.conkey) = 1)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY (current_schemas(false))"""

SELECT = re.compile(r"\s*\(*\s*select\b", re.I)
CATALOG = re.compile(r"\bpg_\w+|\binformation_schema\b", re.I)
PARAM = r"\$\d+(?:::\w+(?:\[\])?)?"  # $1, or $1::INTEGER as SQLAlchemy's psycopg writes it
KEY = rf"(?:=\s*{PARAM}|in\s*\(\s*{PARAM}(?:\s*,\s*{PARAM})*\s*\)|=\s*any\s*\(\s*{PARAM}\s*\))"
BY_KEY = re.compile(
    r"select\s.+?\sfrom\s+(?:\w+\.)?\"?(\w+)\"?(?:\s+(?:as\s+)?\w+)?\s+where\s+"
    rf"(?:\"?\w+\"?\.)?\"?(\w+)\"?\s*{KEY}(?:\s+limit\s+{PARAM})?\s*;?",
    re.I | re.S,
)
FIRST_FROM = re.compile(r"\sfrom\s+(?:\w+\.)?\"?(\w+)\"?", re.I)
LITERAL = re.compile(r"'(?:[^']|'')*'")
DIRECTION = re.compile(r"\s+(ASC|DESC|NULLS (FIRST|LAST))\b.*$", re.I)
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
PASSING_SORT = {"Limit", "Sort", "Incremental Sort", "Gather", "Gather Merge", "Result"}


class StatementsOff(RuntimeError):
    """The server does not preload pg_stat_statements, so there is nothing to read."""


@dataclass
class Statement:
    text: str
    calls: int
    total_ms: float
    blocks: int  # shared blocks hit or read, over all calls

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls


@dataclass
class Table:
    name: str
    rows: int
    pages: int
    columns: list[str]
    indexed: set[str]  # the first column of each of its indexes
    primary: set[str]
    refs: dict[str, str]  # its column -> the table it points at


def reset_statements(database_url: str) -> bool:
    """Start counting from now, for this database only; False when the server does not
    preload pg_stat_statements (the caller says how to turn it on: TURN_ON)."""
    with _connect(database_url) as conn:
        if not _preloaded(conn):
            return False
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute(f"SELECT pg_stat_statements_reset(0, {DB_ID}, 0)")
    return True


def find_slow_spots(database_url: str, load: LoadResult) -> list[SlowSpot]:
    """Missing indexes and N+1 queries in this database, most costly first."""
    with _connect(database_url) as conn:
        if not _preloaded(conn):
            raise StatementsOff(f"statement statistics are off on this server: {TURN_ON}")
        statements = _statements(conn)
        tables = _tables(conn)
        planned = [s for s in statements if SELECT.match(s.text)][:PLANNED]
        plans = _generic_plans(conn, [s.text for s in planned])
    found = [
        (statement, spot)
        for statement, plan in zip(planned, plans, strict=True)
        for spot in _index_spots(statement, plan, tables, load)
    ]
    found += [(s, spot) for s in statements if (spot := _n_plus_one(s, statements, tables, load))]
    costed: dict[tuple, tuple[float, SlowSpot]] = {}
    for statement, spot in found:
        _keep(costed, (spot.kind, spot.table, *spot.columns), statement.total_ms, spot)
    ranked = sorted(costed.values(), key=lambda pair: -pair[0])
    return [spot for _, spot in ranked[:MAX_SPOTS]]


def _connect(url: str) -> psycopg.Connection:
    # prepare_threshold=None: psycopg's own prepared statements would meet DEALLOCATE ALL
    return psycopg.connect(
        url, connect_timeout=CONNECT_TIMEOUT, autocommit=True, prepare_threshold=None
    )


def _preloaded(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
    return "pg_stat_statements" in {name.strip() for name in str(row[0]).split(",")}


def _statements(conn: psycopg.Connection) -> list[Statement]:
    """The database's statements by total time, one per text (roles' entries merged),
    without the catalogue reads of tools such as this one."""
    merged: dict[str, Statement] = {}
    for text, calls, total, blocks in conn.execute(STATEMENTS, (READ,)).fetchall():
        if text and not CATALOG.search(text):
            seen = merged.setdefault(text, Statement(text, 0, 0.0, 0))
            seen.calls += int(calls)
            seen.total_ms += float(total)
            seen.blocks += int(blocks)
    return sorted(merged.values(), key=lambda s: -s.total_ms)


def _tables(conn: psycopg.Connection) -> dict[str, Table]:
    return {
        row[0]: Table(*row[:3], row[3], set(row[4]), set(row[5]), dict(row[6]))
        for row in conn.execute(TABLES).fetchall()
    }


def _generic_plans(conn: psycopg.Connection, texts: list[str]) -> list[dict | None]:
    """Each statement's generic plan (None when it cannot be planned on its own, e.g. a
    parameter whose type nothing says)."""
    plans: list[dict | None] = []
    with conn.transaction(force_rollback=True):
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute(f"SET LOCAL statement_timeout = '{PLAN_TIMEOUT}'")
        conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        for n, text in enumerate(texts):
            count = max((int(m) for m in re.findall(r"\$(\d+)", text)), default=0)
            arguments = f"({', '.join(['NULL'] * count)})" if count else ""
            try:
                with conn.transaction():
                    conn.execute(f"PREPARE shipmate_plan_{n} AS {text}")
                    row = conn.execute(
                        f"EXPLAIN (FORMAT JSON) EXECUTE shipmate_plan_{n}{arguments}"
                    ).fetchone()
                explained = row[0] if isinstance(row[0], list) else json.loads(row[0])
                plans.append(explained[0]["Plan"])
            except psycopg.Error:
                plans.append(None)
    conn.execute("DEALLOCATE ALL")  # PREPARE outlives a rollback
    return plans


def _scans(plan: dict, sort_keys: tuple[str, ...] = ()):
    """Every scan of the plan with the keys of the Sort above it, if nothing but a Limit
    or a Gather stands between them."""
    if plan.get("Relation Name"):
        yield plan, sort_keys
    keys = tuple(plan.get("Sort Key", ())) or sort_keys
    passed = keys if plan.get("Node Type") in PASSING_SORT else ()
    for child in plan.get("Plans", ()):
        yield from _scans(child, passed)


def _index_spots(statement: Statement, plan, tables, load: LoadResult) -> list[SlowSpot]:
    """A full read of a big table to filter or sort it, or an index walk that reads much
    of it to filter: the columns an index would start with."""
    spots = []
    for scan, sort_keys in _scans(plan) if plan else ():
        table = tables.get(scan["Relation Name"])
        if table is None or table.rows < MIN_ROWS:
            continue
        filtered = _columns_in(scan.get("Filter", ""), table)
        per_call = statement.blocks / statement.calls
        if scan["Node Type"] == "Seq Scan":
            sorted_by = [c for c in _sort_columns(sort_keys, table) if c not in filtered]
            wanted, read = filtered + sorted_by, table.rows
            how = f"Seq Scan on {table.name}: each call reads all ~{table.rows:,} rows"
            how += f" to keep those matching {', '.join(filtered)}" if filtered else ""
            how += f" and sorts them by {', '.join(sorted_by)}" if sorted_by else ""
        elif filtered and per_call >= MIN_SHARE * max(table.pages, 1):
            wanted = filtered
            read = min(table.rows, _about(per_call / max(table.pages, 1) * table.rows))
            how = (
                f"{scan['Node Type']} using {scan.get('Index Name', 'an index')} walks "
                f"{table.name} and checks {', '.join(filtered)} row by row: each call reads "
                f"~{per_call:,.0f} pages, ~{read:,} of its ~{table.rows:,} rows"
            )
        else:
            continue
        if not wanted or wanted[0] in table.indexed:
            continue
        variant = filtered[0] if filtered else "sort"
        spots.append(
            _spot(
                SpotKind.missing_index,
                statement,
                endpoint=_list_endpoint(load, table.name, variant),
                table=table.name,
                columns=wanted,
                evidence=f"{how}; {_figures(statement)}, ~{_about(statement.calls * read):,} "
                f"rows read in all. No index on {table.name} starts with {wanted[0]}.",
                change=f"add an index on {table.name}({', '.join(wanted)})",
            )
        )
    return spots


def _n_plus_one(statement: Statement, statements, tables, load: LoadResult) -> SlowSpot | None:
    """One row read by its key, far more often than the list it hangs off was read."""
    shape = BY_KEY.fullmatch(" ".join(statement.text.split()))
    if not shape or shape[1] not in tables:
        return None
    table, column = tables[shape[1]], shape[2]
    listed: dict[str, list[str]] = {}
    if column in table.primary:  # many-to-one: each listed row's parent
        for other in tables.values():
            for own, target in other.refs.items():
                if target == table.name:
                    listed.setdefault(other.name, []).append(own.removesuffix("_id"))
    elif column in table.refs:  # one-to-many: each listed row's children
        listed[table.refs[column]] = [table.name]
    best = None
    for name, relations in listed.items():
        lists, others, source = _list_reads(load, statements, name, table.name)
        extra = statement.calls - others
        if lists and extra >= MIN_PER_LIST * lists and (best is None or lists > best[1]):
            best = (name, lists, extra, source, relations)
    if best is None:
        return None
    name, lists, extra, source, relations = best
    return _spot(
        SpotKind.n_plus_one,
        statement,
        endpoint=_list_endpoint(load, name),
        table=table.name,
        columns=[column],
        evidence=f"{table.name} is read one row at a time by {column}: {_figures(statement)}, "
        f"while {source} {lists:,} times: ~{extra / lists:.0f} queries per list, one per "
        f"listed row of {name}",
        change=f"load {' and '.join(relations)} with the list of {name} (selectinload)",
    )


def _spot(kind: SpotKind, statement: Statement, **found) -> SlowSpot:
    text = _shown(statement.text)
    mean = round(statement.mean_ms, 3)
    return SlowSpot(kind=kind, statement=text, calls=statement.calls, mean_ms=mean, **found)


def _figures(statement: Statement) -> str:
    return (
        f"{statement.calls:,} calls, {_duration(statement.mean_ms)} each on average, "
        f"{_duration(statement.total_ms)} in all"
    )


def _duration(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.2g} ms" if ms < 10 else f"{ms:.0f} ms"


def _about(n: float) -> int:
    """An estimate, to two significant figures."""
    return int(float(f"{n:.2g}"))


def _list_reads(load: LoadResult, statements, listed: str, read: str) -> tuple[int, int, str]:
    """How often `listed` was listed, how many requests read a `read` or `listed` row by
    its key anyway (a get, or a create's reference check), and what was counted."""
    lists = others = 0
    paths = {_path(listed), _path(read)}
    for endpoint in load.endpoints:
        method, _, target = endpoint.name.partition(" ")
        path = target.split("?")[0].rstrip("/")
        if endpoint.name == AGGREGATED or not any(path.startswith(p) for p in paths):
            continue
        if method == "GET" and path == _path(listed):
            lists += endpoint.requests
        elif method != "GET" or path != _path(read):
            others += endpoint.requests
    if lists:
        return lists, others, f"GET {_path(listed)} (any filter or sort) was requested"
    calls = sum(
        s.calls
        for s in statements
        if SELECT.match(s.text)
        and (first := FIRST_FROM.search(s.text))
        and first[1] == listed
        and not BY_KEY.fullmatch(" ".join(s.text.split()))
    )
    return calls, 0, f"the list of {listed} was read"


def _list_endpoint(load: LoadResult, table: str, variant: str = "") -> str:
    """The list endpoint a spot slows: its filter or sort variant when the load had one."""
    names = {e.name for e in load.endpoints}
    base = f"GET {_path(table)}"
    return next((n for n in (f"{base}?{variant}", base) if n in names), "")


def _columns_in(condition: str, table: Table) -> list[str]:
    words = WORD.findall(LITERAL.sub("", condition))
    return list(dict.fromkeys(w for w in words if w in table.columns))


def _sort_columns(keys: tuple[str, ...], table: Table) -> list[str]:
    """Plain columns of the table among the Sort's keys, but its primary key: that only
    breaks ties, and has its index already."""
    columns = (DIRECTION.sub("", k.strip()).rsplit(".", 1)[-1].strip('"') for k in keys)
    return list(dict.fromkeys(c for c in columns if c in table.columns and c not in table.primary))


def _keep(costed: dict, key: tuple, cost: float, spot: SlowSpot) -> None:
    """One spot per fix: what statements needing the same index cost adds up; the
    costliest of them (the first seen) is the one shown."""
    if seen := costed.get(key):
        cost, spot = cost + seen[0], seen[1]
    costed[key] = (cost, spot)


def _path(table: str) -> str:
    return "/" + table.replace("_", "-")


def _shown(text: str) -> str:
    """Normalized SQL on one line; any literal a server left in is blanked."""
    return LITERAL.sub("'?'", " ".join(text.split()))[:STATEMENT_CHARS]
