"""The local target's router: a stable address per service and environment.

A Caddy container (Debian's binary on the base image, host network, restarted by
Docker) listens on one loopback port per service and environment, allocated once from
SHIPMATE_LOCAL_PORTS and kept. Behind it are two slots, blue and green: two ports,
also kept, that versions take in turn. Caddy sends each request to the first slot that
answers /ready and retries a refused connection on the other, so a version switch needs
no config change at all: the new version becomes ready in the free slot, the old one is
drained (its /ready fails) and stops, and requests move over without one failing. (A
config change reloads Caddy, which drops every idle keep-alive connection; that now
happens only when a service's environment is first deployed or torn down.) Which ports
belong to whom is kept in the state dir; Caddy keeps the last config it was given, so
after a reboot it serves before any deploy runs.
"""

from __future__ import annotations

import fcntl
import io
import json
import shutil
import socket
import tarfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
from docker.errors import ImageNotFound, NotFound

from activities.deploy_targets.base import DeployFailed
from activities.deploy_targets.local_http import local_http
from activities.deploy_targets.naming import INSTALLATION, MANAGED_BY, installation_id
from activities.deploy_targets.ownership import OF_INSTALLATION, require_ours
from activities.images import docker_client
from shipmate.ports import port_open
from shipmate.settings import Settings

ROUTER_IMAGE = "shipmate/router:caddy"
HEALTH_INTERVAL = 1.0  # seconds between Caddy's /ready checks of each slot


class RouterUnavailable(DeployFailed):
    """The router could not start or took no config; the message says what to fix."""


@dataclass
class Route:
    port: int  # the stable one people use
    upstream: int | None = None  # the slot the live version listens on
    slots: list[int] = field(default_factory=list)  # blue and green


class LocalRouter:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._admin_listen = f"127.0.0.1:{settings.router_admin_port}"
        self.admin = f"http://{self._admin_listen}"
        self._table = settings.local_target_state / "local-routes.json"

    def address(self, service: str, environment: str) -> str:
        """The service's stable URL, allocating its port and slots the first time."""
        with self._routes() as routes:
            route = routes.get(_key(service, environment))
            if route is None:
                route = routes[_key(service, environment)] = Route(self._free_port(routes))
            if len(route.slots) != 2:
                route.slots = [free_port(), free_port()]
                if route.upstream is not None:  # served already: Caddy needs them now
                    self._push(routes)  # (a new route's, once its version is ready)
        return f"http://127.0.0.1:{route.port}"

    def upstream(self, service: str, environment: str) -> int | None:
        with self._routes() as routes:
            route = routes.get(_key(service, environment))
        return route.upstream if route else None

    def serving_address(self, service: str, environment: str) -> str | None:
        """The stable URL of a pair the router serves now; None otherwise. Reads only:
        nothing is allocated and the router is not reloaded."""
        with self._routes() as routes:
            route = routes.get(_key(service, environment))
        if route is None or route.upstream is None:
            return None
        return f"http://127.0.0.1:{route.port}"

    def free_slot(self, service: str, environment: str) -> int:
        """The slot the live version does not hold; moved to a fresh port when another
        program took it meanwhile (one reload of Caddy)."""
        with self._routes() as routes:
            route = routes[_key(service, environment)]
            index = 1 if route.upstream == route.slots[0] else 0
            if port_open(route.slots[index]):
                route.slots[index] = free_port()
                self._push(routes)
            return route.slots[index]

    def point(self, service: str, environment: str, upstream: int) -> None:
        """Record that the version in slot `upstream` is live. A route's first version
        is when Caddy learns of the route: its slots were never checked while nothing
        answered, so it serves at once instead of after the next check."""
        with self._routes() as routes:
            route = routes[_key(service, environment)]
            first = route.upstream is None
            route.upstream = upstream
            if first:
                self._push(routes)

    @staticmethod
    def wait_for_health_checks() -> None:
        """Long enough for Caddy's /ready checks to see a slot come up or go down."""
        time.sleep(2 * HEALTH_INTERVAL)

    def forget(self, service: str, environment: str) -> None:
        """Tear-down: the port stops answering and goes back to the pool."""
        with self._routes() as routes:
            if routes.pop(_key(service, environment), None) is not None:
                self._push(routes)

    # Caddy itself.

    def ensure_running(self) -> None:
        client = docker_client(self.settings)
        name = f"shipmate-{installation_id(self.settings)}-router"
        try:
            container = client.containers.get(name)
            self._require_ours(f"the router container `{name}`", container.labels)
            if container.status != "running":
                container.start()  # it resumes the last config it was given
            self._wait_for_admin(name)
            return
        except NotFound:
            self._ensure_image(client)
            mine = {MANAGED_BY: "shipmate", INSTALLATION: installation_id(self.settings)}
            try:
                config = client.volumes.get(f"{name}-config")
            except NotFound:
                config = client.volumes.create(f"{name}-config", labels=mine)
            self._require_ours(f"the router's volume `{name}-config`", config.attrs.get("Labels"))
            client.containers.run(
                ROUTER_IMAGE,
                # the last config it was given wins; the first start knows only its admin port
                [
                    "sh",
                    "-c",
                    'printf %s "$FIRST_CONFIG" > /tmp/first.json && '
                    "exec caddy run --resume --config /tmp/first.json",
                ],
                name=name,
                detach=True,
                network_mode="host",
                environment={
                    "FIRST_CONFIG": json.dumps({"admin": {"listen": self._admin_listen}}),
                    "XDG_CONFIG_HOME": "/config",
                    "XDG_DATA_HOME": "/config",
                },
                volumes={f"{name}-config": {"bind": "/config", "mode": "rw"}},
                labels=mine,
                restart_policy={"Name": "unless-stopped"},
            )
        self._wait_for_admin(name)
        with self._routes() as routes:  # a new router starts empty: give it every route
            self._push(routes)

    def _require_ours(self, what: str, marks: dict | None) -> None:
        """The router found by its name must be this installation's, or it is refused."""
        require_ours(what, marks, self.settings, keys=OF_INSTALLATION)

    def _ensure_image(self, client) -> None:
        try:
            client.images.get(ROUTER_IMAGE)
            return
        except ImageNotFound:
            pass
        caddy = shutil.which("caddy")
        if caddy is None:
            raise RouterUnavailable(
                "the local target routes through Caddy, which is not installed: "
                "apt-get install caddy (deploy/setup-local.sh does it)"
            )
        context = io.BytesIO()
        dockerfile = f"FROM {self.settings.base_image}\nCOPY caddy /usr/local/bin/caddy\n"
        with tarfile.open(fileobj=context, mode="w") as tar:
            tar.add(caddy, arcname="caddy")
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(dockerfile)
            tar.addfile(info, io.BytesIO(dockerfile.encode()))
        context.seek(0)
        client.images.build(fileobj=context, custom_context=True, tag=ROUTER_IMAGE, rm=True)

    def _wait_for_admin(self, name: str, timeout: float = 20) -> None:
        """Until our own Caddy answers: one that cannot bind its ports keeps restarting."""
        client = docker_client(self.settings)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                local_http().get(f"{self.admin}/config/")
                if client.containers.get(name).status == "running":
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RouterUnavailable(
            f"the local router did not answer on port {self.settings.router_admin_port}; "
            "another program may hold it (set SHIPMATE_ROUTER_ADMIN_PORT)"
        )

    def _push(self, routes: dict[str, Route]) -> None:
        servers = {
            key.replace("/", "--"): {
                "listen": [f"127.0.0.1:{route.port}"],
                "automatic_https": {"disable": True},
                "routes": [{"handle": [_blue_green(route.slots)]}],
            }
            for key, route in routes.items()
            if route.slots
        }
        config = {
            "admin": {"listen": self._admin_listen},
            "apps": {"http": {"servers": servers}},
        }
        try:
            answer = local_http().post(f"{self.admin}/load", json=config, timeout=10)
        except httpx.HTTPError as exc:
            raise RouterUnavailable(f"the local router took no config: {exc}") from None
        if answer.status_code != 200:
            raise RouterUnavailable(f"the local router refused its config: {answer.text[:300]}")

    # The table of routes, shared by every activity on this host.

    @contextmanager
    def _routes(self):
        self._table.parent.mkdir(parents=True, exist_ok=True)
        with open(self._table.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            routes = {
                key: Route(**value)
                for key, value in (
                    json.loads(self._table.read_text()) if self._table.exists() else {}
                ).items()
            }
            yield routes
            self._table.write_text(
                json.dumps({key: vars(route) for key, route in routes.items()}, indent=1)
            )

    def _free_port(self, routes: dict[str, Route]) -> int:
        first, _, last = self.settings.local_ports.partition("-")
        taken = {route.port for route in routes.values()}
        for port in range(int(first), int(last or first) + 1):
            if port not in taken and not port_open(port):
                return port
        raise RouterUnavailable(
            f"every port in SHIPMATE_LOCAL_PORTS ({self.settings.local_ports}) is taken"
        )


def _key(service: str, environment: str) -> str:
    return f"{service}/{environment}"


def _blue_green(slots: list[int]) -> dict:
    """The first slot that is ready takes the requests; a refused connection (the old
    version stopping) is retried on the other slot instead of failing."""
    return {
        "handler": "reverse_proxy",
        "upstreams": [{"dial": f"127.0.0.1:{slot}"} for slot in slots],
        # A fresh loopback connection per request: a pooled one the old version closed as
        # it stopped would fail a POST, which Caddy must not retry; a refused dial it may.
        "transport": {"protocol": "http", "keep_alive": {"enabled": False}},
        "load_balancing": {
            "selection_policy": {"policy": "first"},
            "try_duration": "10s",
            "try_interval": "50ms",
        },
        "health_checks": {
            "active": {"uri": "/ready", "interval": f"{HEALTH_INTERVAL}s", "timeout": "2s"},
            "passive": {"fail_duration": "2s", "max_fails": 1},
        },
    }


def free_port(address: str = "127.0.0.1") -> int:
    """A port nothing listens on now at `address`, from the system's ephemeral range."""
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]
