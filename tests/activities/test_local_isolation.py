"""A local service reaches its database and nothing else of the machine's (#29 item 6).

On the host network a compromised service could rewrite the router through its admin
API, push images to the registry and send updates to Temporal as anyone. Each service
now runs on a Docker network of its own: checked from inside a deployed container (real
Docker, real PostgreSQL), the way an attacker in it would try.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from urllib.parse import urlsplit, urlunsplit

import docker
import httpx
import pytest

from activities.deploy_targets.local_network import (
    FORWARDER,
    GATEWAY_HOST,
    _bridge_gateway,
    network_name,
)
from cli import devstack
from shipmate.ports import port_open
from testkit.installations import remove_deployed
from testkit.waiting import eventually_sync
from tests.activities.test_local_deploys import _containers, deploy, images, name, tear_down

__all__ = ["images"]  # the module's fixture, shared

TRY = """
import socket, sys
for host, port in (a.split(":") for a in sys.argv[1:]):
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
        print(f"{host}:{port} open")
    except OSError:
        print(f"{host}:{port} closed")
"""


def reach(container, *addresses: str) -> dict[str, str]:
    """What the service's own container can open, as `host:port` -> open/closed."""
    ran = container.exec_run(["python3", "-c", TRY, *addresses])
    assert ran.exit_code == 0, ran.output
    return dict(line.rsplit(" ", 1) for line in ran.output.decode().splitlines())


@pytest.fixture()
def deployed(settings, images):
    service = name()
    result = deploy(settings, service, images[1], 1)
    (running,) = _containers(settings, service)
    try:
        yield service, result, docker.from_env().containers.get(running)
    finally:
        tear_down(settings, service)


def test_a_service_reaches_its_database_and_nothing_else_on_the_machine(settings, deployed):
    service, result, container = deployed
    created = httpx.post(f"{result.url}/notes", json={"title": "kept"})
    assert created.status_code == 201, created.text  # its database, through the gateway
    database = urlsplit(_environment(container)["DATABASE_URL"])
    assert database.hostname == GATEWAY_HOST
    machine = {
        "the router's admin API": settings.router_admin_port,
        "the registry": settings.registry_port,
        "Temporal": int(settings.temporal_address.rsplit(":", 1)[1]),
        "the router's stable port": urlsplit(result.url).port,
    }
    addresses = [
        f"{host}:{port}" for port in machine.values() for host in ("127.0.0.1", GATEWAY_HOST)
    ]
    # the server's own port, not forwarded, unless the server itself listens everywhere
    server = urlsplit(settings.postgres_url).port or 5432
    gateway = _bridge_gateway(docker.from_env())
    if server != database.port and not port_open(server, gateway):
        addresses.append(f"{GATEWAY_HOST}:{server}")
    seen = reach(container, f"{GATEWAY_HOST}:{database.port}", *addresses)
    assert seen.pop(f"{GATEWAY_HOST}:{database.port}") == "open"
    assert set(seen.values()) == {"closed"}, seen


def test_each_service_has_a_network_of_its_own_that_goes_with_it(settings, images):
    first, second = name(), name()
    try:
        deploy(settings, first, images[1], 1)
        deploy(settings, second, images[1], 1)
        engine = docker.from_env()
        networks = {
            service: list(engine.containers.get(c).attrs["NetworkSettings"]["Networks"])
            for service in (first, second)
            for c in _containers(settings, service)
        }
        assert networks == {
            first: [network_name(settings, first, "staging")],
            second: [network_name(settings, second, "staging")],
        }
        (other,) = _containers(settings, second)
        slot = engine.containers.get(other).labels["shipmate.port"]
        (mine,) = _containers(settings, first)
        seen = reach(engine.containers.get(mine), f"{GATEWAY_HOST}:{slot}", f"127.0.0.1:{slot}")
        assert set(seen.values()) == {"closed"}, seen  # a neighbour's slot is out of reach
        tear_down(settings, first)
        assert not engine.networks.list(names=[network_name(settings, first, "staging")])
    finally:
        tear_down(settings, first)
        tear_down(settings, second)


def test_a_service_keeps_its_database_when_another_installation_on_the_engine_goes(
    settings, images, tmp_path
):
    """Two Shipmates on one engine, their databases on one server: one uninstalls (its
    services torn down, then all it deployed removed) and the other's service still
    reaches its database. Both reach the server at an address no other test has used,
    so neither finds a forwarder the session made before."""
    server = urlsplit(settings.postgres_url)
    relay_port = devstack.free_port()
    relay = subprocess.Popen(
        [sys.executable, "-c", FORWARDER, "127.0.0.1", str(relay_port), str(server.port or 5432)],
        stdout=subprocess.DEVNULL,
    )
    eventually_sync(lambda: port_open(relay_port), what="the relay to PostgreSQL")
    host = server.netloc.rpartition("@")[2]
    relayed = server.netloc.removesuffix(host) + f"{server.hostname}:{relay_port}"
    through_relay = urlunsplit(server._replace(netloc=relayed))
    first, second = (
        settings.model_copy(
            update={
                "state_dir": tmp_path / letter,
                "installation": f"{letter}{uuid.uuid4().hex[:6]}",
                "router_admin_port": devstack.free_port(),
                "local_ports": _port_range(),
                "postgres_url": through_relay,
            }
        )
        for letter in "ab"
    )
    service = name()
    try:
        deploy(first, service, images[1], 1)
        kept = deploy(second, service, images[1], 1)
        tear_down(first, service)
        remove_deployed(first.installation)  # its router and forwarders too

        # a new connection: the pool's old one went with whatever forwarder it used
        created = [httpx.post(f"{kept.url}/notes", json={"title": f"kept {n}"}) for n in (1, 2)]
        assert [answer.status_code for answer in created] == [201, 201], created[-1].text
    finally:
        tear_down(second, service)
        remove_deployed(second.installation)
        remove_deployed(first.installation)
        relay.kill()
        relay.wait()


def _environment(container) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in container.attrs["Config"]["Env"])


def _port_range(size: int = 10) -> str:
    first = devstack.free_port()
    return f"{first}-{first + size - 1}"


def test_a_forwarder_removed_by_hand_comes_back_where_the_services_look_for_it(settings, deployed):
    """Someone removes the database forwarder (`docker rm -f`): the next deploy starts
    it again on the same port, and the services running from before reach their
    database again without a new version."""
    service, result, container = deployed
    port = urlsplit(_environment(container)["DATABASE_URL"]).port
    engine = docker.from_env()
    to_postgres = {
        "label": f"shipmate.installation={settings.installation}",
        "name": f"-forward-{urlsplit(settings.postgres_url).port or 5432}",
    }
    (forwarder,) = engine.containers.list(filters=to_postgres)
    forwarder.remove(force=True)
    assert httpx.post(f"{result.url}/notes", json={"title": "lost"}).status_code == 500

    other = name()
    try:
        deploy(settings, other, images_of(container), 1)
        again = httpx.post(f"{result.url}/notes", json={"title": "kept"})
        assert again.status_code == 201, again.text
        (back,) = engine.containers.list(filters=to_postgres)
        assert back.labels["shipmate.gateway-port"] == str(port)
    finally:
        tear_down(settings, other)


def images_of(container) -> str:
    return container.image.tags[0]
