"""How fast an event goes from one generated service to another:
`python -m benchmarks.event_delivery`.

orders-api (publishing Order changes through its outbox) and fulfillment-api (a consumer
making one Fulfillment per Order created) are generated as Shipmate writes them and run as
they run deployed (uvicorn; `python -m app.consumer`), on SQLite, with the machine's
RabbitMQ and then its NATS. 1,000 orders are made through the API by 8 clients at once;
it prints the write rate, how long after the last write the 1,000th fulfillment exists,
and whether there are exactly 1,000. Target: within 5 s, exactly 1,000. Asserts nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aio_pika
import httpx
import nats

from activities.scaffold.generator import write_service
from cli import devstack
from workflows.event_spec import ConsumerSpec, EventSpec, Sink
from workflows.spec import Database, EntitySpec, FieldSpec, ServiceSpec

ORDERS = 1000
CLIENTS = 8
BROKERS = {
    Sink.rabbitmq: ("EVENTS_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"),
    Sink.nats: ("EVENTS_NATS_URL", "nats://127.0.0.1:4222"),
}


def specs(sink: Sink) -> tuple[ServiceSpec, ServiceSpec]:
    order = EntitySpec(
        name="Order", fields=[FieldSpec(name="item"), FieldSpec(name="qty", type="int")]
    )
    fulfillment = EntitySpec(
        name="Fulfillment",
        fields=[
            FieldSpec(name="order_id", type="int"),
            FieldSpec(name="status", default="pending"),
        ],
    )
    consumer = ConsumerSpec(
        publisher="orders-api", entity="Order", sink=sink, creates="Fulfillment", link="order_id"
    )
    return (
        ServiceSpec(
            name="orders-api",
            database=Database.sqlite,
            entities=[order],
            events=[EventSpec(entity="Order", sink=sink)],
        ),
        ServiceSpec(
            name="fulfillment-api",
            database=Database.sqlite,
            entities=[fulfillment],
            consumers=[consumer],
        ),
    )


def run(sink: Sink, home: Path) -> None:
    orders, fulfillment = specs(sink)
    write_service(orders, home / "orders")
    write_service(fulfillment, home / "fulfillment")
    topic, group = f"bench-{uuid.uuid4().hex[:8]}", f"bench-{uuid.uuid4().hex[:8]}"
    variable, url = BROKERS[sink]
    common = {**os.environ, "ENVIRONMENT": "test", variable: url}
    orders_env = {
        **common,
        "DATABASE_URL": f"sqlite:///{home}/orders.db",
        "EVENTS_TOPIC": topic,
        "RELAY_POLL_SECONDS": "0.2",
    }
    database = home / "fulfillment.db"
    consumer_env = {
        **common,
        "DATABASE_URL": f"sqlite:///{database}",
        "CONSUME_TOPICS": json.dumps({"orders-api": topic}),
        "CONSUMER_GROUP": group,
    }
    for project, env in ((home / "orders", orders_env), (home / "fulfillment", consumer_env)):
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=project,
            env=env,
            check=True,
            capture_output=True,
        )
    port = devstack.free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    api = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=home / "orders",
        env=orders_env,
        **quiet,
    )
    consumer = subprocess.Popen(
        [sys.executable, "-m", "app.consumer"], cwd=home / "fulfillment", env=consumer_env, **quiet
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(lambda: httpx.get(f"{base}/ready").status_code == 200)
        time.sleep(2)  # the consumer has made its queue or durable consumer
        started = time.monotonic()
        asyncio.run(_make_orders(base))
        last_write = time.monotonic()
        while _fulfilled(database) < ORDERS and time.monotonic() - last_write < 120:
            time.sleep(0.05)
        done = time.monotonic()
        time.sleep(2)  # a repeat arriving late would show as a second row
        count = _fulfilled(database)
        rate = ORDERS / (last_write - started)
        print(
            f"Events over {sink.value}: {ORDERS} orders at {rate:.0f}/s; the last fulfillment "
            f"{done - last_write:.2f} s after the last write; {count} fulfillments "
            f"({'exactly one each' if count == ORDERS else 'NOT one each'})"
        )
    finally:
        for process in (consumer, api):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        asyncio.run(_forget(sink, topic, f"{group}-orders-api-order-created"))


async def _forget(sink: Sink, topic: str, queue: str) -> None:
    """What the run made on the broker goes with it."""
    if sink == Sink.rabbitmq:
        async with await aio_pika.connect(BROKERS[sink][1]) as connection:
            channel = await connection.channel()
            for name in (queue, f"{queue}.dead"):
                await channel.queue_delete(name)
            await channel.exchange_delete(topic)
        return
    client = await nats.connect(BROKERS[sink][1])
    for stream in (topic, f"{queue}-dead"):
        await client.jetstream().delete_stream(stream)
    await client.close()


async def _make_orders(base: str) -> None:
    numbers = iter(range(ORDERS))
    async with httpx.AsyncClient(base_url=base, timeout=30) as web:

        async def client() -> None:
            for n in numbers:
                answer = await web.post("/orders", json={"item": f"tea {n}", "qty": n})
                answer.raise_for_status()

        await asyncio.gather(*(client() for _ in range(CLIENTS)))


def _fulfilled(database: Path) -> int:
    try:
        with sqlite3.connect(database) as db:
            return db.execute("SELECT count(*) FROM fulfillments").fetchone()[0]
    except sqlite3.OperationalError:  # locked for a moment by the consumer's write
        return 0


def _wait(ready, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the orders API did not become ready")


def main() -> None:
    for sink in BROKERS:
        with tempfile.TemporaryDirectory() as home:
            run(sink, Path(home))


if __name__ == "__main__":
    main()
