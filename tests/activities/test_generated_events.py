"""A generated service's events on the machine's real RabbitMQ and NATS JetStream: each
change arrives once and in order; a service killed between its commit and the send, or
between the send and forgetting the event, loses nothing and doubles nothing a consumer
keeps (NATS drops the repeat itself; RabbitMQ's carries the same message id)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from cli import devstack
from testkit.brokers import MACHINE_NATS, MACHINE_RABBITMQ, nats_stream, rabbitmq_queue
from testkit.waiting import eventually
from tests.activities.test_scaffold import PYTHON, generate, serving

REQUEST = "an orders api: orders have item and qty int. Publish order changes to {sink}"
ADDRESS = {
    "rabbitmq": ("EVENTS_RABBITMQ_URL", MACHINE_RABBITMQ),
    "nats": ("EVENTS_NATS_URL", MACHINE_NATS),
}
SINKS = ["rabbitmq", "nats"]


def environment(tmp_path: Path, sink: str, topic: str, reachable: bool = True) -> dict[str, str]:
    name, url = ADDRESS[sink]
    if not reachable:  # a broker that is away: nothing answers on this port
        url = url.replace(url.rsplit(":", 1)[1].strip("/"), str(devstack.free_port()))
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/orders.db",
        "ENVIRONMENT": "test",
        "EVENTS_TOPIC": topic,
        name: url,
        "RELAY_POLL_SECONDS": "0.2",
        "RELAY_LEASE_SECONDS": "2",
    }


def make_changes(base: str, orders: int) -> list[tuple[str, int]]:
    """`orders` orders made, every one changed, every third deleted: (action, id) in order."""
    done = []
    with httpx.Client(base_url=base) as web:
        for n in range(orders):
            made = web.post("/orders", json={"item": f"tea {n}", "qty": n})
            assert made.status_code == 201, made.text
            done.append(("created", made.json()["id"]))
        for _, row_id in list(done):
            assert web.patch(f"/orders/{row_id}", json={"qty": 1000 + row_id}).status_code == 200
            done.append(("updated", row_id))
            if row_id % 3 == 0:
                assert web.delete(f"/orders/{row_id}").status_code == 204
                done.append(("deleted", row_id))
    return done


async def arrived(sink: str, topic: str, count: int, drain, database: Path):
    """What the broker got, once the service has sent (and forgotten) every event."""
    await eventually(lambda: _waiting(database) == 0, what="the outbox to empty")
    return await drain(count) if sink == "rabbitmq" else await nats_stream(topic, count)


def _waiting(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT count(*) FROM event_outbox").fetchone()[0]


@pytest.fixture(params=SINKS)
def sink(request):
    return request.param


@pytest.fixture()
def project(sink, tmp_path):
    return generate(REQUEST.format(sink=sink), tmp_path / "service")


async def test_every_change_arrives_once_in_order(sink, project, tmp_path):
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    async with _reader(sink, topic) as drain:
        with serving(project, environment(tmp_path, sink, topic)) as base:
            done = make_changes(base, 30)
            received = await arrived(sink, topic, len(done), drain, tmp_path / "orders.db")
    assert [(b["action"], b["id"]) for b in received.bodies] == done
    assert received.ids == [b["event_id"] for b in received.bodies]
    assert len(set(received.ids)) == len(done)
    updated = next(b for b in received.bodies if b["action"] == "updated")
    assert updated["entity"] == "Order" and updated["data"]["qty"] == 1000 + updated["id"]


async def test_killed_before_the_broker_answered_nothing_is_lost(sink, project, tmp_path):
    """Committed while the broker is away, then killed: the events wait in the outbox
    and all go, in order, once the service is back with its broker."""
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    async with _reader(sink, topic) as drain:
        with serving(
            project, environment(tmp_path, sink, topic, reachable=False), killed=True
        ) as base:
            done = make_changes(base, 12)
        with serving(project, environment(tmp_path, sink, topic)):
            received = await arrived(sink, topic, len(done), drain, tmp_path / "orders.db")
    assert [(b["action"], b["id"]) for b in received.bodies] == done
    assert len(set(received.ids)) == len(done)


async def test_killed_after_the_send_nothing_doubles_for_a_consumer(sink, project, tmp_path):
    """The relay dies after the broker has the events and before it forgets them: the next
    relay sends them again under the same ids (NATS keeps one of each by itself)."""
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    env = environment(tmp_path, sink, topic)
    async with _reader(sink, topic) as drain:
        with serving(project, {**env, ADDRESS[sink][0]: "", "RELAY_POLL_SECONDS": "60"}) as base:
            done = make_changes(base, 6)  # no sink address: the events wait
        died = subprocess.run(
            [PYTHON, "-c", DIES_BEFORE_FORGETTING.format(sink=sink)],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert died.returncode == 3, died.stderr[-2000:]
        with serving(project, env):
            expected = len(done) if sink == "nats" else 2 * len(done)
            received = await arrived(sink, topic, expected, drain, tmp_path / "orders.db")
    kept = list(dict.fromkeys(received.ids))  # what a consumer keeps: each id once
    by_id = {b["event_id"]: b for b in received.bodies}
    assert [(by_id[i]["action"], by_id[i]["id"]) for i in kept] == done
    assert len(received.ids) == expected


DIES_BEFORE_FORGETTING = """
import asyncio, os
from app import relay, sinks
relay.forget = lambda ids: os._exit(3)
asyncio.run(relay.relay_once("{sink}", sinks.configured()["{sink}"], holder="doomed"))
"""


def _reader(sink: str, topic: str):
    """RabbitMQ's queue must exist before the service publishes; NATS keeps the stream."""
    if sink == "rabbitmq":
        return rabbitmq_queue(topic)
    return _nothing()


class _nothing:
    async def __aenter__(self):
        return None

    async def __aexit__(self, *exc):
        return False
