"""What Apply wins, measured: `python -m benchmarks.optimize_speed`.

A generated service on the local Docker target with 200,000 rows in its table, load
tested by the whole OptimizeWorkflow with its real stages (Locust, PostgreSQL's
pg_stat_statements as `shipmate dev` runs it); its missing index applied through a
change delivery (tests, the staging gate approved, blue/green), then the same load
again. Prints each endpoint's p95 before and after, and how many times faster the
filtered list got (target: 5x or more). Slack is left out. Asserts nothing.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

import psycopg

from activities.deploy_targets.local import LocalDocker
from activities.deploy_targets.naming import database_identifier
from cli import dev_postgres, devstack
from cli.worker import build_workers
from shipmate import delivery_client
from shipmate.settings import Settings
from shipmate.temporal import connect
from testkit.worker_processes import follow_approving
from understanding import parse_request
from workflows.access import Origin, PersonAction
from workflows.optimize_models import OptimizeRequest, OptimizeState
from workflows.optimize_workflow import OptimizeWorkflow
from workflows.stage_models import TeardownInput

ROWS = 200_000
REQUEST = "a tasks api with PostgreSQL and no auth: tasks have title, owner and points (int)"


async def main() -> None:
    print(f"optimize: load, apply the missing index, load again; {ROWS:,} rows")
    with tempfile.TemporaryDirectory(prefix="optimize-bench-") as tmp:
        state = Path(tmp)
        with devstack.LocalStack(echo=lambda line: None) as local:
            temporal, database = devstack.free_port(), devstack.free_port()
            registry = devstack.free_port()
            local.start(devstack.temporal_part(state, temporal, devstack.free_port()))
            local.start(devstack.registry_part(state, registry))
            local.start(dev_postgres.postgres_part(state, database))
            settings = Settings(
                temporal_address=f"127.0.0.1:{temporal}",
                task_queue=f"optimize-bench-{uuid.uuid4().hex[:6]}",
                state_dir=state / "shipmate",
                wheelhouse=Path("~/.cache/shipmate/wheelhouse").expanduser(),  # the tests' too
                developers=["U0ALICE", "U0BOB"],
                approvers=["U0BOB"],
                postgres_url=dev_postgres.admin_url(state, database),
                registry=f"127.0.0.1:{registry}",
                registry_port=registry,
                load_seconds=20,
                load_users=5,  # the database, not the queue for one process, is measured
                load_seed_seconds=0,
            )
            client = await connect(settings)
            async with build_workers(client, settings):
                await _run(client, settings)


async def _run(client, settings: Settings) -> None:
    spec = parse_request(REQUEST).spec
    service = spec.name
    ticket = await delivery_client.request_change(client, settings, REQUEST, spec, "U0ALICE")
    delivered = await follow_approving(client, client.get_workflow_handle(ticket.delivery_id))
    if delivered.state.value != "succeeded" or not delivered.deployments:
        print(f"  the service was not delivered: {delivered.state.value} {delivered.error or ''}")
        return
    try:
        _fill(settings, service, spec.entities[0].table)
        request = OptimizeRequest(
            service=service, environment="staging", requester="U0ALICE", poll_seconds=2
        )
        handle = await client.start_workflow(
            OptimizeWorkflow.run,
            request,
            id=f"optimize/bench/{uuid.uuid4().hex[:8]}",
            task_queue=settings.task_queue,
        )
        status = await _until(handle, lambda s: s.state != OptimizeState.running)
        if not status.indexes:
            print(f"  nothing to apply: {status.error or [s.evidence for s in status.spots]}")
            return
        print("  applying " + ", ".join(change.words for change in status.indexes))
        await handle.execute_update(
            OptimizeWorkflow.apply, PersonAction(user="U0ALICE", origin=Origin.command)
        )
        status = await _until(handle, lambda s: s.apply_delivery is not None)
        await follow_approving(client, client.get_workflow_handle(status.apply_delivery))
        final = await handle.result()
        _print(final)
    finally:
        LocalDocker().tear_down(
            settings, TeardownInput(service=service, environment="staging"), heartbeat=print
        )


def _fill(settings: Settings, service: str, table: str) -> None:
    admin = settings.postgres_url.rsplit("/", 1)[0]
    database = database_identifier(settings, service, "staging")
    with psycopg.connect(f"{admin}/{database}", connect_timeout=10, autocommit=True) as conn:
        conn.execute(
            f"INSERT INTO {table} (title, owner, points) "  # noqa: S608 - the benchmark's own
            f"SELECT 'task ' || g, 'owner' || (g % 2000), g % 50 FROM generate_series(1, {ROWS}) g"
        )
        conn.execute(f"ANALYZE {table}")


async def _until(handle, done, seconds: float = 1800):
    for _ in range(int(seconds)):
        status = await handle.query(OptimizeWorkflow.status)
        if done(status):
            return status
        await asyncio.sleep(1)
    raise TimeoutError("the optimization did not get there in time")


def _print(final) -> None:
    if final.before is None or final.load is None:
        print(f"  not measured again: {final.error or final.notes}")
        return
    was = {e.name: e for e in final.before.endpoints}
    print(f"  {'endpoint':<34} {'p95 before':>10} {'after':>8} {'faster':>7}")
    for now in final.load.endpoints:
        old = was.get(now.name)
        if old is not None and now.p95_ms:
            print(
                f"  {now.name:<34} {old.p95_ms:>8.0f}ms {now.p95_ms:>6.0f}ms "
                f"{old.p95_ms / now.p95_ms:>6.1f}x"
            )
    before, after = final.before.total, final.load.total
    print(
        f"  all requests: p95 {before.p95_ms:.0f} → {after.p95_ms:.0f} ms, "
        f"{before.rps:.0f} → {after.rps:.0f} req/s (target for the filtered list: 5x)"
    )


if __name__ == "__main__":
    asyncio.run(main())
