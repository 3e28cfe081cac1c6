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
import json
import time
from contextlib import suppress
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from docker.errors import APIError, NotFound

from activities.deploy_targets.base import DeployFailed
from activities.deploy_targets.local_router import ROUTER_IMAGE, free_port
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
    print("listening", flush=True)
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
    when there is none (or it stopped). Its port stays the same, so the services that
    were given it keep their database; it moves only when another program holds it."""
    client = docker_client(settings)
    gateway = _bridge_gateway(client)
    installation = installation_id(settings)
    # one from before forwarders had ports of their own listens on the server's port,
    # where this installation's running services know it
    before = _ours(client, settings, f"shipmate-{installation}-gateway-{port}")
    if before is not None and _serves(before, gateway, port, says_so=False):
        return port
    name = f"shipmate-{installation}-forward-{port}"
    kept = _kept_ports(settings)
    for _ in range(STARTS):
        found = _ours(client, settings, name)
        if found is None:
            listens = kept.get(str(port)) or _free_port_on(gateway)
            found = _start_forwarder(settings, client, name, (gateway, listens, port))
        listens = int(found.labels[LISTENS])
        _keep_port(settings, kept, port, listens)
        if _serves(found, gateway, listens):
            return listens
        with suppress(NotFound):  # another program holds its port: a fresh one
            found.remove(force=True)
        kept.pop(str(port), None)
    raise GatewayUnavailable(
        f"the forwarder `{name}` did not listen on {gateway}; its log: docker logs {name}"
    )


def _ours(client, settings: Settings, name: str):
    try:
        found = client.containers.get(name)
    except NotFound:
        return None
    require_ours(f"the gateway forwarder `{name}`", found.labels, settings, keys=OF_INSTALLATION)
    return found


def _start_forwarder(settings: Settings, client, name: str, where: tuple[str, int, int]):
    gateway, listens, port = where
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


def _serves(container, gateway: str, port: int, says_so: bool = True) -> bool:
    """Whether the forwarder itself listens on its port within 20 s: running, saying
    'listening' since it started (one from before says nothing), and the port open, not
    some other program's that took it first."""
    if container.status not in ("running", "restarting"):
        container.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        container.reload()
        state = container.attrs["State"]
        # what it said since its last start: an error on some connection later is no
        # reason to doubt it; a restart that could not bind says nothing of the kind
        since = int(datetime.fromisoformat(state["StartedAt"][:19]).replace(tzinfo=UTC).timestamp())
        said = container.logs(since=since).decode(errors="replace").split()
        started = "listening" in said or not says_so
        if state["Running"] and not state["Restarting"] and started and port_open(port, gateway):
            return True
        if state["Status"] == "exited" and not state["Restarting"]:
            return False
        time.sleep(0.2)
    return False


def _kept_ports(settings: Settings) -> dict[str, int]:
    """The gateway port each forwarder of this installation had: a forwarder removed by
    hand comes back on it, where the running services look for it."""
    try:
        return json.loads(_ports_file(settings).read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _keep_port(settings: Settings, kept: dict[str, int], port: int, listens: int) -> None:
    """Record the port in `kept` (as read by _kept_ports) and its file, when it changed."""
    if kept.get(str(port)) != listens:
        kept[str(port)] = listens
        path = _ports_file(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(kept))
        temporary.replace(path)


def _ports_file(settings: Settings):
    return settings.local_target_state / f"gateway-ports-{installation_id(settings)}.json"


def _free_port_on(address: str) -> int:
    """A port free on the gateway now (any address's, where this worker cannot bind the
    gateway's); one taken before the forwarder binds it costs another try."""
    try:
        return free_port(address)
    except OSError:
        return free_port("")


def _bridge_gateway(client) -> str:
    """The address `host-gateway` names: Docker's default bridge's gateway (the first
    address of its subnet where the engine does not say)."""
    for config in client.networks.get("bridge").attrs["IPAM"]["Config"] or []:
        if "." in config.get("Gateway", ""):
            return config["Gateway"]
        if "." in config.get("Subnet", ""):
            return str(next(ipaddress.ip_network(config["Subnet"]).hosts()))
    raise GatewayUnavailable("Docker's default bridge has no IPv4 subnet to reach the machine by")
