"""Where a local service's events go: the RabbitMQ and NATS the settings name, reached
from the service's own network, on an exchange or stream named for its installation,
service and environment (so two environments never read each other's events).

A broker that does not answer stops the deploy before anything starts, naming it: the
service would run, but its events would only pile up in its outbox.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

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
