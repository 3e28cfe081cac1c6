"""Local services on networks of their own (#29 item 6).

On the host network a service reached everything that listens on loopback: the router's
admin API (rewrite any route), the registry (push images), the Temporal frontend (send
updates as anyone) and a neighbour's idle slot. Each service and environment now runs
on a Docker bridge network of its own; its port is published on loopback alone, where
the router reaches it, and it reaches its database server on the machine through the
host gateway: one small forwarder per database port, on the host network, listens on
the Docker bridge's gateway address and passes each connection to that port on
loopback. Nothing else on the machine's loopback is reachable from a service.

Each installation has forwarders of its own, on ports of their own: two Shipmates on one
engine (a team's and a test session's) once shared the first one's, and when that
installation removed what it had deployed, the other's services lost their databases.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urlsplit, urlunsplit

from docker.errors import APIError, NotFound

from activities.deploy_targets.base import DeployFailed
from activities.deploy_targets.local_router import ROUTER_IMAGE
from activities.deploy_targets.naming import (
    INSTALLATION,
    MANAGED_BY,
    installation_id,
    labels,
    resource_name,
)
from activities.deploy_targets.ownership import OF_INSTALLATION, require_ours
from activities.images import docker_client
from shipmate.ports import port_open
from shipmate.settings import Settings

APP_PORT = 8000  # what a service listens on inside its network
GATEWAY_HOST = "host.docker.internal"  # the machine, as a service sees it
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEFAULT_PORTS = {"postgresql": 5432, "postgres": 5432, "mysql": 3306}
# Standard library only (the router's image has Python): a byte pipe each way.
FORWARDER = """
import asyncio, sys
gateway, listen, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()
async def serve(reader, writer):
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        writer.close()
        return
    await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
async def main():
    server = await asyncio.start_server(serve, gateway, listen)
    async with server:
        await server.serve_forever()
asyncio.run(main())
"""


LISTENS = "shipmate.gateway-port"  # a forwarder's own port on the gateway
STARTS = 3  # tries at a port another program may take between the choice and the bind


class GatewayUnavailable(DeployFailed):
    """The forwarder to a database on the machine did not come up; the message says why."""


def service_network(settings: Settings, service: str, environment: str) -> str:
    """The pair's own network, made once; one found under its name must be the pair's."""
    client = docker_client(settings)
    name = network_name(settings, service, environment)
    try:
        found = client.networks.get(name)
    except NotFound:
        try:
            client.networks.create(
                name, driver="bridge", labels=labels(settings, service, environment)
            )
        except APIError:  # made meanwhile by a retried attempt; checked below
            found = client.networks.get(name)
        else:
            return name
    require_ours(
        f"the Docker network `{name}`", found.attrs.get("Labels"), settings, service, environment
    )
    return name


def remove_network(settings: Settings, service: str, environment: str) -> None:
    """Tear-down's last step, once the pair's containers are gone."""
    name = network_name(settings, service, environment)
    try:
        found = docker_client(settings).networks.get(name)
    except NotFound:
        return
    require_ours(
        f"the Docker network `{name}`", found.attrs.get("Labels"), settings, service, environment
    )
    found.remove()


def network_name(settings: Settings, service: str, environment: str) -> str:
    return resource_name(settings, service, environment, limit=55) + "-net"


def reachable_from_services(settings: Settings, url: str) -> str:
    """`url` as a service on its own network reaches it: a server on the machine's
    loopback through this installation's forwarder on the gateway, any other as it is."""
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK:
        return url
    port = parts.port or DEFAULT_PORTS.get(parts.scheme.split("+")[0], 0)
    listens = _forwarder(settings, port)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{GATEWAY_HOST}:{listens}" if userinfo else f"{GATEWAY_HOST}:{listens}"
    return urlunsplit(parts._replace(netloc=netloc))


def _forwarder(settings: Settings, port: int) -> int:
    """The gateway port of this installation's forwarder to loopback `port`, started
    when there is none (or it stopped)."""
    client = docker_client(settings)
    gateway = _bridge_gateway(client)
    name = f"shipmate-{installation_id(settings)}-gateway-{port}"
    for _ in range(STARTS):
        try:
            found = client.containers.get(name)
        except NotFound:
            found = _start_forwarder(settings, client, name, gateway, port)
        else:
            require_ours(
                f"the gateway forwarder `{name}`", found.labels, settings, keys=OF_INSTALLATION
            )
        # one started before forwarders had ports of their own listens on the server's
        listens = int(found.labels.get(LISTENS, port))
        if found.status != "running":
            found.start()
        if _listening(found, gateway, listens):
            return listens
        found.remove(force=True)  # its port was taken before it bound it: another port
    raise GatewayUnavailable(
        f"the forwarder `{name}` did not listen on {gateway}; its log: docker logs {name}"
    )


def _start_forwarder(settings: Settings, client, name: str, gateway: str, port: int):
    listens = _free_port_on(gateway)
    mine = {MANAGED_BY: "shipmate", INSTALLATION: installation_id(settings)}
    try:
        return client.containers.run(
            ROUTER_IMAGE,
            ["python3", "-c", FORWARDER, gateway, str(listens), str(port)],
            name=name,
            detach=True,
            network_mode="host",
            labels={**mine, LISTENS: str(listens)},
            restart_policy={"Name": "unless-stopped"},
        )
    except APIError as exc:
        if exc.status_code != 409:  # 409: another deploy started it meanwhile
            raise
        return client.containers.get(name)


def _listening(container, gateway: str, port: int, patience: float = 20) -> bool:
    """Whether the forwarder listens within `patience`; False once it has exited."""
    deadline = time.monotonic() + patience
    while not port_open(port, gateway):
        container.reload()
        if container.status == "exited" or time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _free_port_on(address: str) -> int:
    """A port free on the gateway now (any address's, where this worker cannot bind the
    gateway's); one taken before the forwarder binds it costs another try."""
    with socket.socket() as sock:
        try:
            sock.bind((address, 0))
        except OSError:
            sock.bind(("", 0))
        return sock.getsockname()[1]


def _bridge_gateway(client) -> str:
    """The address `host-gateway` names: Docker's default bridge's gateway (the first
    address of its subnet where the engine does not say)."""
    for config in client.networks.get("bridge").attrs["IPAM"]["Config"] or []:
        if "." in config.get("Gateway", ""):
            return config["Gateway"]
        if "." in config.get("Subnet", ""):
            return str(next(ipaddress.ip_network(config["Subnet"]).hosts()))
    raise GatewayUnavailable("Docker's default bridge has no IPv4 subnet to reach the machine by")
