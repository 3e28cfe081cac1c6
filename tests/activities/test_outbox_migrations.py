"""The outbox's tables in a service's migrations, on SQLite, PostgreSQL and MariaDB: the
version that starts publishing (or consuming) makes them; they are never dropped, since
the version before or after may still write to them while another migrates, and the
models' check leaves them out when a version has none; a service made before the outbox
(it published from its handlers) gets them with its next version."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from activities.scaffold.generator import write_service
from testkit.waiting import eventually_sync
from tests.activities.migration_checks import NOT_THE_SPECS, matches_the_models, migrate
from workflows.event_spec import ConsumerSpec, EventSpec, Sink
from workflows.spec import EntitySpec, FieldSpec, ServiceSpec

OUTBOX = {"event_outbox", "event_relay"}
INBOX = {"event_inbox"}
ORDER = EntitySpec(name="Order", fields=[FieldSpec(name="item"), FieldSpec(name="qty", type="int")])


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def spec(version: int, *events: EventSpec, fields: int = 2) -> ServiceSpec:
    order = ORDER.model_copy(
        update={"fields": [*ORDER.fields, FieldSpec(name="note", required=False)][:fields]}
    )
    return ServiceSpec(name="orders-api", entities=[order], events=list(events), version=version)


def test_the_outbox_comes_with_events_and_stays_idle_after_them(tmp_path, database, engine):
    project = tmp_path / "orders"
    v1, v2, v3 = spec(1), spec(2, EventSpec(entity="Order", sink=Sink.nats)), spec(3)
    write_service(v1, project)
    migrate(project, database, "upgrade", "head")
    assert not tables(engine) & OUTBOX
    write_service(v2, project)
    migrate(project, database, "upgrade", "head")
    assert tables(engine) >= OUTBOX
    matches_the_models(project, database)
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO event_outbox (event_id, sink, entity, action, body) "
                "VALUES ('e1', 'nats', 'Order', 'created', '{}')"
            )
        )
    write_service(v3, project)
    migrate(project, database, "upgrade", "head")
    assert tables(engine) >= OUTBOX  # v2 may still write while v3 migrates
    assert _waiting(engine) == 1  # the event not yet sent is kept
    matches_the_models(project, database)
    migrate(project, database, "downgrade", "v0002")
    assert tables(engine) >= OUTBOX
    migrate(project, database, "downgrade", "base")
    assert tables(engine) - OUTBOX <= NOT_THE_SPECS


def _waiting(engine: sa.Engine) -> int:
    with engine.begin() as db:
        return db.execute(sa.text("SELECT count(*) FROM event_outbox")).scalar()


def test_a_service_made_before_the_outbox_gets_it_with_its_next_version(tmp_path, database, engine):
    project = tmp_path / "orders"
    published = EventSpec(entity="Order", sink=Sink.sqs)
    write_service(spec(1, published), project)
    migrate(project, database, "upgrade", "head")
    with engine.begin() as db:  # as v1 was before the outbox: no tables of its own
        for table in OUTBOX:
            db.execute(sa.text(f"DROP TABLE {table}"))
    write_service(spec(2, published, fields=3), project)
    migrate(project, database, "upgrade", "head")
    assert tables(engine) >= OUTBOX
    matches_the_models(project, database)
    migrate(project, database, "downgrade", "v0001")
    assert tables(engine) >= OUTBOX  # v1 publishes too: the outbox stays


FULFILLMENT = EntitySpec(name="Fulfillment", fields=[FieldSpec(name="order_id", type="int")])
CONSUMER = ConsumerSpec(
    publisher="orders-api", entity="Order", sink=Sink.nats, creates="Fulfillment", link="order_id"
)
FORGET_BY = "ix_event_inbox_received_at"  # the consumer forgets old ids by it


def inbox_indexes(engine: sa.Engine) -> set[str]:
    return {index["name"] for index in sa.inspect(engine).get_indexes("event_inbox")}


def test_the_inbox_comes_with_a_consumer_and_stays_after_it(tmp_path, database, engine):
    project = tmp_path / "fulfillment"
    fulfillment, consumer = FULFILLMENT, CONSUMER
    v1 = ServiceSpec(name="fulfillment-api", entities=[fulfillment])
    v2 = v1.model_copy(update={"consumers": [consumer], "version": 2})
    v3 = v1.model_copy(update={"version": 3})
    for spec_version, inbox in ((v1, False), (v2, True), (v3, True)):
        write_service(spec_version, project)
        migrate(project, database, "upgrade", "head")
        assert (INBOX <= tables(engine)) == inbox
        assert not inbox or FORGET_BY in inbox_indexes(engine)
        matches_the_models(project, database)
    migrate(project, database, "downgrade", "v0001")
    assert INBOX <= tables(engine)  # v2 may still be acting on events while v1 comes back


def _inbox_made_before_its_index(tmp_path, database: str, engine: sa.Engine):
    """A consumer's v1, migrated, its inbox as it was before it had the index it forgets
    old ids by; the project and the spec."""
    project = tmp_path / "fulfillment"
    v1 = ServiceSpec(name="fulfillment-api", entities=[FULFILLMENT], consumers=[CONSUMER])
    write_service(v1, project)
    migrate(project, database, "upgrade", "head")
    on_table = " ON event_inbox" if engine.dialect.name in ("mysql", "mariadb") else ""
    with engine.begin() as db:
        db.execute(sa.text(f"DROP INDEX {FORGET_BY}{on_table}"))
    return project, v1


def test_an_inbox_made_before_its_index_gets_it_with_the_next_version(tmp_path, database, engine):
    project, v1 = _inbox_made_before_its_index(tmp_path, database, engine)
    assert FORGET_BY not in inbox_indexes(engine)
    write_service(v1.model_copy(update={"version": 2}), project)
    migrate(project, database, "upgrade", "head")
    assert FORGET_BY in inbox_indexes(engine)
    matches_the_models(project, database)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_on_postgresql_the_inbox_index_is_built_beside_the_writes(tmp_path, database, engine):
    """PostgreSQL builds the index CONCURRENTLY (a plain build holds the running
    consumer's inserts): an inbox made before it, with rows, gets a valid index, and an
    index a stopped build left invalid is made again; migrating two versions at once
    leaves each whole, stamped at the newest."""
    project, v1 = _inbox_made_before_its_index(tmp_path, database, engine)
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO event_inbox (event_id, received_at) "
                "SELECT 'e' || n, n FROM generate_series(1, 5000) AS n"
            )
        )
        db.execute(sa.text(f"CREATE INDEX {FORGET_BY} ON event_inbox (event_id)"))
        db.execute(  # what a build stopped half-way leaves: an index no query may use
            sa.text(
                f"UPDATE pg_index SET indisvalid = false WHERE indexrelid = '{FORGET_BY}'::regclass"
            )
        )
    write_service(v1.model_copy(update={"version": 2}), project)
    with_note = v1.model_copy(
        update={
            "version": 3,
            "entities": [
                FULFILLMENT.model_copy(
                    update={"fields": [*FULFILLMENT.fields, FieldSpec(name="note", required=False)]}
                )
            ],
        }
    )
    write_service(with_note, project)
    migrate(project, database, "upgrade", "head")  # v2 and v3 in one go
    with engine.begin() as db:
        valid, columns = db.execute(
            sa.text(
                "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                f"WHERE i.indexrelid = '{FORGET_BY}'::regclass"
            )
        ).one()
        stamped = db.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        rows = db.execute(sa.text("SELECT count(*) FROM event_inbox")).scalar()
    assert valid and "(received_at)" in columns  # made again, on the right column
    assert stamped == "v0003" and rows == 5000
    matches_the_models(project, database)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_on_postgresql_a_consumer_keeps_writing_while_the_inbox_is_indexed(
    tmp_path, database, engine
):
    """What CONCURRENTLY is for, shown with locks: while a consumer's transaction is open,
    the index build waits for it, and a new insert from another consumer must not queue
    behind the build (a plain CREATE INDEX would make it wait, here past its lock_timeout)."""
    project, v1 = _inbox_made_before_its_index(tmp_path, database, engine)
    write_service(v1.model_copy(update={"version": 2}), project)
    insert = sa.text("INSERT INTO event_inbox (event_id, received_at) VALUES (:id, 1)")
    with engine.connect() as acting:  # a consumer in the middle of an event
        acting.execute(insert, {"id": "held"})
        migration = threading.Thread(target=migrate, args=(project, database, "upgrade", "head"))
        migration.start()
        eventually_sync(lambda: _index_build_waiting(engine), what="the index build waiting")
        with engine.begin() as other:  # another consumer, acting on the next event
            other.execute(sa.text("SET LOCAL lock_timeout = '3s'"))
            other.execute(insert, {"id": "next"})
        acting.commit()
        migration.join(timeout=120)
    assert not migration.is_alive()
    assert FORGET_BY in inbox_indexes(engine)


def _index_build_waiting(engine: sa.Engine) -> bool:
    with engine.connect() as db:
        waiting = db.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE query ILIKE 'CREATE INDEX%' AND wait_event_type = 'Lock'"
            )
        ).scalar()
    return bool(waiting)
