"""The machine's RabbitMQ and NATS JetStream, read the way a consumer of a generated
service reads them: a queue bound to the service's exchange, a consumer on its stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import aio_pika
import nats
from nats.js.errors import NotFoundError

MACHINE_RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/"
MACHINE_NATS = "nats://127.0.0.1:4222"


class Received:
    """Messages as they arrived: their JSON bodies and the broker's message ids."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.ids: list[str] = []

    def add(self, body: bytes, message_id: str | None) -> None:
        self.bodies.append(json.loads(body))
        self.ids.append(message_id or "")


@contextlib.asynccontextmanager
async def rabbitmq_queue(exchange: str, url: str = MACHINE_RABBITMQ) -> AsyncIterator:
    """A queue bound to everything on `exchange` (made as the service makes it), made
    before the service publishes; the exchange goes afterwards. Yields `drain(n)`."""
    connection = await aio_pika.connect(url, timeout=10)
    try:
        channel = await connection.channel()
        made = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(made, routing_key="#")

        async def drain(count: int, within: float = 30.0, settle: float = 1.0) -> Received:
            """What arrived once `count` have (and `settle` s more, for any extra)."""
            received, deadline, quiet_until = Received(), time.monotonic() + within, None
            while time.monotonic() < deadline:
                message = await queue.get(no_ack=True, fail=False)
                if message is not None:
                    received.add(message.body, message.message_id)
                    continue
                if len(received.bodies) >= count:
                    quiet_until = quiet_until or time.monotonic() + settle
                    if time.monotonic() >= quiet_until:
                        break
                await asyncio.sleep(0.05)
            return received

        yield drain
        await made.delete(if_unused=False)
    finally:
        await connection.close()


async def nats_stream(
    stream: str, count: int, within: float = 30.0, url: str = MACHINE_NATS, keep: bool = False
):
    """Every message the stream holds once it holds `count` (a new consumer reads from the
    start); the stream goes afterwards, unless it is to be kept."""
    client = await nats.connect(url, connect_timeout=5)
    try:
        jetstream = client.jetstream()
        deadline = time.monotonic() + within
        while True:
            try:
                held = (await jetstream.stream_info(stream)).state.messages
            except NotFoundError:
                held = 0
            if held >= count or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        received = Received()
        if held:
            reader = await jetstream.pull_subscribe(f"{stream}.>", durable=None, stream=stream)
            while len(received.bodies) < held:
                for message in await reader.fetch(min(held - len(received.bodies), 500), timeout=5):
                    received.add(message.data, (message.headers or {}).get("Nats-Msg-Id"))
                    await message.ack()
            if not keep:
                await jetstream.delete_stream(stream)
        return received
    finally:
        await client.close()
