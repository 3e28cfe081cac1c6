"""A generated consumer on the machine's real RabbitMQ and NATS: orders-api publishes, and
fulfillment-api makes one Fulfillment per order created there, exactly once, whether its
consumer is killed midway (between handling and acknowledging) or gets an event it cannot
use (dead-lettered, and the rest go on)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import httpx
import nats
import pytest

from activities.scaffold.generator import write_service
from testkit.brokers import MACHINE_NATS, MACHINE_RABBITMQ
from testkit.waiting import eventually
from tests.activities.test_scaffold import PYTHON, run_generated_tests, serving
from workflows.event_spec import ConsumerSpec, EventSpec, Sink
from workflows.spec import Database, EntitySpec, FieldSpec, ServiceSpec

URL = {
    "rabbitmq": ("EVENTS_RABBITMQ_URL", MACHINE_RABBITMQ),
    "nats": ("EVENTS_NATS_URL", MACHINE_NATS),
}


def services(sink: Sink) -> tuple[ServiceSpec, ServiceSpec]:
    orders = ServiceSpec(
        name="orders-api",
        database=Database.sqlite,
        entities=[
            EntitySpec(
                name="Order", fields=[FieldSpec(name="item"), FieldSpec(name="qty", type="int")]
            )
        ],
        events=[EventSpec(entity="Order", sink=sink)],
    )
    fulfillment = ServiceSpec(
        name="fulfillment-api",
        database=Database.sqlite,
        entities=[
            EntitySpec(
                name="Fulfillment",
                fields=[
                    FieldSpec(name="order_id", type="int"),
                    FieldSpec(name="item", required=False),
                    FieldSpec(name="status", choices=["pending", "shipped"], default="pending"),
                ],
            )
        ],
        consumers=[
            ConsumerSpec(
                publisher="orders-api",
                entity="Order",
                sink=sink,
                creates="Fulfillment",
                link="order_id",
            )
        ],
    )
    return orders, fulfillment


class Pair:
    """Both services generated, with their environments: the orders API's and the
    fulfillment consumer's, on one broker topic and a consumer group of the test's own."""

    def __init__(self, sink: str, tmp_path: Path) -> None:
        orders, fulfillment = services(Sink(sink))
        self.orders, self.fulfillment = tmp_path / "orders", tmp_path / "fulfillment"
        write_service(orders, self.orders)
        write_service(fulfillment, self.fulfillment)
        self.topic = f"orders-{uuid.uuid4().hex[:8]}"
        self.group = f"fulfil-{uuid.uuid4().hex[:8]}"
        self.sink = sink
        name, url = URL[sink]
        common = {**os.environ, "ENVIRONMENT": "test", name: url}
        self.orders_env = {
            **common,
            "DATABASE_URL": f"sqlite:///{tmp_path}/orders.db",
            "EVENTS_TOPIC": self.topic,
            "RELAY_POLL_SECONDS": "0.1",
        }
        self.database = tmp_path / "fulfillment.db"
        self.consumer_env = {
            **common,
            "DATABASE_URL": f"sqlite:///{self.database}",
            "CONSUME_TOPICS": json.dumps({"orders-api": self.topic}),
            "CONSUMER_GROUP": self.group,
            "CONSUMER_ACK_WAIT": "3",  # NATS delivers an unacknowledged event again soon
        }
        subprocess.run(
            [PYTHON, "-m", "alembic", "upgrade", "head"],
            cwd=self.fulfillment,
            env=self.consumer_env,
            check=True,
            capture_output=True,
        )

    @contextlib.contextmanager
    def consumer(self, dies_after: int | None = None) -> Iterator[subprocess.Popen]:
        """The consumer process; `dies_after` events handled, it dies before acknowledging."""
        run = ["-m", "app.consumer"] if dies_after is None else ["-c", DIES.format(dies_after)]
        process = subprocess.Popen(
            [PYTHON, *run],
            cwd=self.fulfillment,
            env=self.consumer_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)

    def fulfilled(self) -> list[int]:
        with sqlite3.connect(self.database) as db:
            return [row[0] for row in db.execute("SELECT order_id FROM fulfillments ORDER BY id")]

    async def consuming(self, process) -> None:
        """Until the consumer's queue or durable consumer exists (it logs so)."""

        async def said() -> bool:
            assert process.poll() is None, process.stdout.read().decode()[-2000:]
            return self.group in (await asyncio.to_thread(_peek, process))

        await eventually(said, what="the consumer to subscribe")


# The consumer, dying once it has handled (and committed) an event, before its ack.
DIES = """
import asyncio, logging, os
from app import consumer
logging.basicConfig(level=logging.INFO, format="%(message)s")
real, handled = consumer.act, []

async def act(subscription, body, wait=consumer.FIRST_WAIT):
    done = await real(subscription, body, wait)
    handled.append(done)
    if len(handled) == {0}:
        os._exit(9)
    return done

consumer.act = act
asyncio.run(consumer.main())
"""


def _peek(process) -> str:
    os.set_blocking(process.stdout.fileno(), False)
    chunk = process.stdout.read() or b""
    _peek.seen = getattr(_peek, "seen", b"") + chunk
    return _peek.seen.decode(errors="replace")


@pytest.fixture(params=["rabbitmq", "nats"])
def pair(request, tmp_path):
    _peek.seen = b""
    made = Pair(request.param, tmp_path)
    yield made
    asyncio.run(_forget(made))


async def _forget(pair: Pair) -> None:
    """The test's exchange, queues and streams go with it."""
    if pair.sink == "rabbitmq":
        connection = await aio_pika.connect(MACHINE_RABBITMQ)
        async with connection:
            channel = await connection.channel()
            for name in (
                f"{pair.group}-orders-api-order-created",
                f"{pair.group}-orders-api-order-created.dead",
            ):
                with contextlib.suppress(Exception):
                    await channel.queue_delete(name)
            with contextlib.suppress(Exception):
                await channel.exchange_delete(pair.topic)
    else:
        client = await nats.connect(MACHINE_NATS)
        jetstream = client.jetstream()
        for stream in (pair.topic, f"{pair.group}-orders-api-order-created-dead"):
            with contextlib.suppress(Exception):
                await jetstream.delete_stream(stream)
        await client.close()


def order(web: httpx.Client, n: int) -> int:
    made = web.post("/orders", json={"item": f"tea {n}", "qty": n})
    assert made.status_code == 201, made.text
    return made.json()["id"]


async def test_each_order_makes_one_fulfillment_even_when_the_consumer_is_killed(pair):
    """Killed after handling its 40th event and before acknowledging it: the broker
    delivers that one (and those fetched after it) again, and the inbox makes nothing twice."""
    with serving(pair.orders, pair.orders_env) as base, httpx.Client(base_url=base) as web:
        with pair.consumer(dies_after=40) as doomed:
            await pair.consuming(doomed)
            ids = [order(web, n) for n in range(300)]
            await eventually(lambda: doomed.poll() is not None, what="the consumer to die")
        assert len(pair.fulfilled()) == 40
        ids += [order(web, n) for n in range(300, 400)]
        with pair.consumer():
            await eventually(lambda: len(pair.fulfilled()) >= len(ids), timeout=120, what="all")
            await asyncio.sleep(4)  # anything delivered again late would show as a second row
    assert sorted(pair.fulfilled()) == sorted(ids)


async def test_an_unusable_event_is_dead_lettered_and_the_rest_go_on(pair):
    with serving(pair.orders, pair.orders_env) as base, httpx.Client(base_url=base) as web:
        with pair.consumer() as running:
            await pair.consuming(running)
            await _publish_raw(pair, b'{"event_id": "bad-1", "id": "not a number"}')
            ids = [order(web, n) for n in range(5)]
            await eventually(lambda: len(pair.fulfilled()) >= len(ids), what="the good ones")
            assert sorted(pair.fulfilled()) == sorted(ids)
            assert await _dead_letters(pair) == 1


async def _publish_raw(pair: Pair, body: bytes) -> None:
    if pair.sink == "rabbitmq":
        connection = await aio_pika.connect(MACHINE_RABBITMQ)
        async with connection:
            channel = await connection.channel()
            exchange = await channel.get_exchange(pair.topic)
            await exchange.publish(aio_pika.Message(body), routing_key="Order.created")
    else:
        client = await nats.connect(MACHINE_NATS)
        await client.jetstream().publish(f"{pair.topic}.Order.created", body)
        await client.close()


async def _dead_letters(pair: Pair) -> int:
    dead = f"{pair.group}-orders-api-order-created"
    if pair.sink == "rabbitmq":
        connection = await aio_pika.connect(MACHINE_RABBITMQ)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(f"{dead}.dead", durable=True, passive=True)
            return queue.declaration_result.message_count
    client = await nats.connect(MACHINE_NATS)
    try:
        return (await client.jetstream().stream_info(f"{dead}-dead")).state.messages
    finally:
        await client.close()


@pytest.mark.parametrize("server", ["postgres_url", "mariadb_url"])
def test_the_consumers_own_tests_pass_on_postgresql_and_mariadb(server, request, tmp_path):
    _, fulfillment = services(Sink.rabbitmq)
    kind = Database.postgresql if server == "postgres_url" else Database.mysql
    project = tmp_path / "fulfillment"
    write_service(fulfillment.model_copy(update={"database": kind}), project)
    assert "failed" not in run_generated_tests(project, request.getfixturevalue(server))
