"""Where a local service's events go: the RabbitMQ and NATS the settings name, reached
from the service's own network, on an exchange or stream named for its installation,
service and environment (so two environments never read each other's events).

A broker that does not answer stops the deploy before anything starts, naming it: the
service would run, but its events would only pile up in its outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import aio_pika
import nats
from nats.js.errors import NotFoundError

from activities.deploy_targets.base import DeployFailed
from activities.deploy_targets.local_network import reachable_from_services
from activities.deploy_targets.naming import resource_name
from shipmate.settings import Settings

BROKERS = {
    "rabbitmq": ("RabbitMQ", "EVENTS_RABBITMQ_URL", "SHIPMATE_RABBITMQ_URL", 5672),
    "nats": ("NATS", "EVENTS_NATS_URL", "SHIPMATE_NATS_URL", 4222),
}


class BrokerUnavailable(DeployFailed):
    """A broker the service publishes to does not answer."""


def event_environment(
    settings: Settings, service: str, environment: str, sinks: list[str]
) -> dict[str, str]:
    """The settings a service publishing to `sinks` runs with locally. SQS has no local
    queue: its events wait in the outbox (the ECS target makes the queue)."""
    found = {}
    for sink in sinks:
        if sink not in BROKERS:
            continue
        product, variable, setting, default_port = BROKERS[sink]
        url = _url(settings, sink)
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or default_port
        if not _answers(host, port):
            raise BrokerUnavailable(
                f"{product} at {host}:{port} does not answer, and {service} publishes its "
                f"events there. Start it (or set {setting}), then deploy again."
            )
        found[variable] = reachable_from_services(settings, url)
    if found:
        found["EVENTS_TOPIC"] = resource_name(settings, service, environment)
    return found


def _url(settings: Settings, sink: str) -> str:
    if sink == "rabbitmq":
        return settings.rabbitmq_url.get_secret_value()
    return settings.nats_url


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def forget_broker_names(settings: Settings, request) -> list[str]:
    """What tear-down removes from the brokers: the pair's exchange or stream (where it
    published) and its consumers' queues, durable consumers and dead letters, each named
    for this installation's pair, so nothing of another's is touched. Returns them in
    words; a broker that does not answer leaves them, and says so."""
    group = resource_name(settings, request.service, request.environment)
    rabbit = {"exchange": [], "queue": []}
    nats_ = {"stream": [], "consumer": []}
    if "rabbitmq" in request.event_sinks:
        rabbit["exchange"].append(group)
    if "nats" in request.event_sinks:
        nats_["stream"].append(group)
    for queue in request.consumer_queues:
        sink, _, suffix = queue.partition(":")
        name = f"{group}-{suffix}"
        if sink == "rabbitmq":
            rabbit["queue"] += [name, f"{name}.dead"]
        elif sink == "nats":
            nats_["consumer"].append(name)
            nats_["stream"].append(f"{name}-dead")
    removed = []
    if any(rabbit.values()):
        removed += _forgotten("RabbitMQ", lambda: _forget_rabbitmq(settings, rabbit))
    if any(nats_.values()):
        removed += _forgotten("NATS", lambda: _forget_nats(settings, nats_))
    return removed


def _forgotten(product: str, forget) -> list[str]:
    """`forget()` run to its end on a loop of its own (in a thread of its own when this
    one already runs a loop)."""
    try:
        with ThreadPoolExecutor(max_workers=1) as own:
            return own.submit(asyncio.run, forget()).result(timeout=60)
    except Exception as error:  # the service's own things are gone; the broker's stay
        return [f"nothing on {product}, which did not answer ({type(error).__name__})"]


async def _forget_rabbitmq(settings: Settings, names: dict[str, list[str]]) -> list[str]:
    url = settings.rabbitmq_url.get_secret_value()
    async with await aio_pika.connect(url, timeout=10) as connection:
        channel = await connection.channel()
        for queue in names["queue"]:
            await channel.queue_delete(queue)
        for exchange in names["exchange"]:
            await channel.exchange_delete(exchange)
    return [f"RabbitMQ {kind} `{name}`" for kind, found in names.items() for name in found]


async def _forget_nats(settings: Settings, names: dict[str, list[str]]) -> list[str]:
    client = await nats.connect(settings.nats_url, connect_timeout=5, allow_reconnect=False)
    removed = []
    try:
        jetstream = client.jetstream(timeout=10)
        for stream in names["stream"]:
            with contextlib.suppress(NotFoundError):
                await jetstream.delete_stream(stream)
                removed.append(f"NATS stream `{stream}`")
        streams = await jetstream.streams_info() if names["consumer"] else []
        for consumer in names["consumer"]:  # on its publisher's stream, wherever that is
            for stream in streams:
                with contextlib.suppress(NotFoundError):
                    await jetstream.delete_consumer(stream.config.name, consumer)
                    removed.append(f"NATS consumer `{consumer}`")
    finally:
        await client.close()
    return removed
