"""Deploy a service image to the local Docker engine, blue/green, behind a stable address.

The new version starts beside the live one with the service's own database (see
local_databases), migrates it and must answer /ready; only then does the router send it
the traffic and the old version stop. A version that never becomes ready is removed,
the live one keeps serving, and the failure says "rolled back" with its last log lines.

Each service and environment runs on a Docker network of its own (local_network), its
slot published on loopback for the router, whose stable port is the only address people
use; it reaches a database server on the machine's loopback through the host gateway
and nothing else there.
"""

from __future__ import annotations

import json
import logging
import os
import time
from functools import partial
from typing import NamedTuple

import httpx
from docker.errors import APIError, ImageNotFound, NotFound

from activities.deploy_targets.base import DeployFailed, Heartbeat
from activities.deploy_targets.local_brokers import event_environment, forget_broker_names
from activities.deploy_targets.local_consumers import (
    ConsumerFailed,
    retire_consumers,
    running_consumer,
    start_consumer,
)
from activities.deploy_targets.local_databases import (
    check_database,
    database_password,
    describe_database,
    drop_database,
    prepare_database,
)
from activities.deploy_targets.local_downgrade import migrate_down
from activities.deploy_targets.local_http import local_http
from activities.deploy_targets.local_network import (
    APP_PORT,
    GATEWAY_HOST,
    reachable_from_services,
    remove_network,
    service_network,
)
from activities.deploy_targets.local_router import LocalRouter
from activities.deploy_targets.naming import label_filters, labels, resource_name, secrets_file
from activities.deploy_targets.ownership import ours_or_unmarked, pair_of, require_ours
from activities.deploy_targets.sign_in import sign_in_environment
from activities.deploy_targets.traces import trace_environment
from activities.images import docker_client
from activities.log_scrub import scrub_tail
from activities.service_secrets import new_service_secrets, secret_values
from shipmate.settings import Settings
from workflows.stage_models import DeployInput, DeployResult, TeardownInput

log = logging.getLogger(__name__)
READY_TIMEOUT = 90.0  # migrations run before /ready answers
PORT_LABEL = "shipmate.port"
VERSION_LABEL = "shipmate.version"
PAIR_KEY = "_pair"  # in a secrets file: whose it is; never a container's setting


class UnhealthyService(DeployFailed):
    """The deployed service did not answer in time."""


def service_secrets(settings: Settings, service: str, environment: str) -> dict[str, str]:
    """Per service and environment, made once and kept on the worker host (mode 0600):
    the JWT signing secret, the first admin's password and the database password never
    pass through Slack. The file names its pair; one naming another is refused."""
    path = secrets_file(settings, service, environment)
    marked, stored = _stored_secrets(settings, service, environment)
    values = stored if stored is not None else new_service_secrets()
    before = dict(values)
    database_password(values)
    if values != before or not marked:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            json.dump({**values, PAIR_KEY: pair_of(settings, service, environment)}, out)
        temporary.replace(path)
    return values


def _stored_secrets(settings: Settings, service: str, environment: str):
    """(marked, the secrets without their marker); (False, None) when there is no file.
    A file from before files named their pair is accepted (and marked by the caller)."""
    path = secrets_file(settings, service, environment)
    try:
        stored = json.loads(path.read_text())
    except FileNotFoundError:
        return False, None
    marks = stored.pop(PAIR_KEY, None)
    what = f"the secrets file {path}"
    return ours_or_unmarked(what, marks, settings, service, environment), stored


def deploy_blue_green(
    settings: Settings, request: DeployInput, heartbeat: Heartbeat
) -> DeployResult:
    client = docker_client(settings)
    service, environment = request.service, request.environment
    router = LocalRouter(settings)
    router.ensure_running()
    url = router.address(service, environment)
    wanted = _image_on_this_engine(client, request).id
    live = _live_container(settings, client, router, service, environment)
    if live is not None and live.image.id == wanted and live.status == "running":
        # a retried deploy: this version already serves; its consumer alone reads on
        known = secret_values(service_secrets(settings, service, environment))
        kept = running_consumer(
            settings, client, request, live, _version(request), heartbeat, known
        )
        retire_consumers(settings, client, service, environment, keep=kept)
        return _result(request, url, live.name)
    brokers = sorted({*request.event_sinks, *request.consumer_sinks})
    events = event_environment(settings, service, environment, brokers)
    events |= sign_in_environment(settings, request, partial(reachable_from_services, settings))
    events |= trace_environment(
        settings, service, environment, partial(reachable_from_services, settings)
    )
    secrets = service_secrets(settings, service, environment)
    database_url, volumes = prepare_database(
        settings, request.database, service, environment, secrets["DATABASE_PASSWORD"]
    )
    network = service_network(settings, service, environment)
    database_url = reachable_from_services(settings, database_url)
    name = f"{resource_name(settings, service, environment)}-v{request.version}-{wanted[7:15]}"
    started = _settle_earlier_attempts(settings, client, request, live, name, heartbeat)
    if request.migrate_down_with:  # nothing consumes into tables that change back
        retire_consumers(settings, client, service, environment)
        migrate_down(settings, request, database_url, volumes, network, heartbeat)
    if started is not None:  # the attempt before a worker died started this very version
        new, port = started, int(started.labels[PORT_LABEL])
    else:
        _refuse_another_pairs_container(settings, client, name, service, environment)
        port = router.free_slot(service, environment)
        heartbeat(f"starting v{request.version} beside the live version")
        where = _Where(network, port, database_url, volumes, events)
        new = _start(settings, client, request, name, where, secrets)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", heartbeat, container=new)
        known = secret_values(secrets)
        consumer = start_consumer(
            settings, client, request, new, _version(request), heartbeat, known
        )
    except ConsumerFailed as exc:
        new.remove(force=True)
        keeps = f"v{live.labels.get(VERSION_LABEL)} keeps serving" if live else "nothing serves"
        raise ConsumerFailed(
            f"rolled back: v{request.version}: {exc}; {keeps}", exc.log_tail
        ) from None
    except UnhealthyService as exc:
        tail = _log_tail(new, known=secret_values(secrets))
        new.remove(force=True)
        keeps = (
            f"v{live.labels.get(VERSION_LABEL)} keeps serving at {url}"
            if live
            else ("nothing was serving before it")
        )
        raise UnhealthyService(
            f"rolled back: v{request.version} never became ready ({exc}); {keeps}", tail
        ) from None
    router.point(service, environment, port)
    if live is None:  # the first version: live once the router has seen it ready
        wait_until_ready(url, heartbeat, timeout=30)
    else:  # the leftovers are gone: the live version is the only other one
        router.wait_for_health_checks()  # the router sees the new version ready
        _drain(live)  # its /ready fails: the router sends it nothing new
        router.wait_for_health_checks()
        live.stop(timeout=10)  # in-flight requests finish
        live.remove(force=True)
    retire_consumers(settings, client, service, environment, keep=consumer)
    return _result(request, url, name)


class _Where(NamedTuple):
    network: str
    port: int
    database_url: str
    volumes: dict[str, str]
    events: dict[str, str]  # where its events go (local_brokers), its issuer (sign_in)


def _start(settings, client, request: DeployInput, name: str, where: _Where, secrets):
    """The new version's container: it migrates its database, then serves."""
    network, port, database_url, volumes, events = where
    service, environment = request.service, request.environment
    return client.containers.run(
        request.image,
        name=name,
        detach=True,
        network=network,  # its own: nothing else on the machine's loopback is in reach
        ports={f"{APP_PORT}/tcp": ("127.0.0.1", port)},  # where the router reaches it
        extra_hosts={GATEWAY_HOST: "host-gateway"},
        labels={
            **labels(settings, service, environment),
            PORT_LABEL: str(port),
            **_version(request),
        },
        environment={
            "ENVIRONMENT": environment,
            "HOST": "0.0.0.0",  # noqa: S104 - inside its own network
            "PORT": str(APP_PORT),
            "DATABASE_URL": database_url,
            **events,
            **{k: v for k, v in secrets.items() if k != "DATABASE_PASSWORD"},
        },
        volumes={volume: {"bind": path, "mode": "rw"} for volume, path in volumes.items()},
        restart_policy={"Name": "unless-stopped"},
    )


def _version(request: DeployInput) -> dict[str, str]:
    return {VERSION_LABEL: str(request.version)}


def _image_on_this_engine(client, request: DeployInput):
    """The built image, pulled from the registry when another worker's engine built it."""
    try:
        return client.images.get(request.image)
    except ImageNotFound:
        if not request.pushed_image:
            raise
    repository, _, tag = request.pushed_image.split("@")[0].rpartition(":")
    pulled = client.images.pull(repository, tag=tag)
    pulled.tag(*request.image.rsplit(":", 1))
    return pulled


def _drain(container) -> None:
    """Ask a running version to fail /ready (generated services read /tmp/draining); one
    built before that, or already stopped, is simply stopped."""
    if container.status != "running":
        return
    try:
        container.exec_run(["touch", "/tmp/draining"])
    except APIError as exc:
        log.info("could not drain %s: %s", container.name, exc)


def wait_until_ready(
    url: str, heartbeat: Heartbeat, timeout: float = READY_TIMEOUT, container=None
) -> None:
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        try:
            response = local_http().get(f"{url}/ready")
            if response.status_code == 200:
                return
            last_error = f"HTTP {response.status_code}{_why(response)}"
        except httpx.HTTPError as exc:
            last_error = type(exc).__name__
        if container is not None:
            container.reload()
            if container.status == "exited" or container.attrs["RestartCount"] > 0:
                raise UnhealthyService(f"it exited with {container.attrs['State']['ExitCode']}")
        heartbeat(f"waiting for {url}/ready: {last_error}")
        time.sleep(0.1)
    raise UnhealthyService(f"{url}/ready did not answer 200 within {timeout:.0f}s ({last_error})")


def _why(response: httpx.Response) -> str:
    """What a /ready that refused said (the generated service's detail), briefly."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return ""
    return f": {detail[:200]}" if isinstance(detail, str) else ""


def tear_down(settings: Settings, request: TeardownInput) -> str:
    """Remove the service's containers, route, database and secrets in one environment,
    once the database and the secrets file prove this pair's: a refusal removes nothing."""
    client = docker_client(settings)
    check_database(settings, request.database, request.service, request.environment)
    _stored_secrets(settings, request.service, request.environment)
    removed = []
    for container in _containers(settings, client, request.service, request.environment):
        container.remove(force=True)
        removed.append(f"container {container.name}")
    LocalRouter(settings).forget(request.service, request.environment)
    removed.append(drop_database(settings, request.database, request.service, request.environment))
    secrets_file(settings, request.service, request.environment).unlink(missing_ok=True)
    remove_network(settings, request.service, request.environment)
    removed += forget_broker_names(settings, request)
    return ", ".join(removed)


def _settle_earlier_attempts(
    settings, client, request: DeployInput, live, name: str, heartbeat: Heartbeat
):
    """Let a start that an earlier attempt left behind (its worker died) finish before it
    goes: a migration killed midway can leave a database (SQLite's, MariaDB's) that no later
    start can migrate. The one that started this very version and became ready is kept and
    returned; any other is removed once it is ready, has exited or the wait runs out."""
    kept = None
    for leftover in _containers(settings, client, request.service, request.environment):
        if (live is not None and leftover.id == live.id) or PORT_LABEL not in leftover.labels:
            continue  # the live version, or a downgrade (waited for by migrate_down)
        heartbeat(f"letting an earlier attempt's {leftover.name} finish starting")
        ready = _finishes_starting(leftover, heartbeat)
        if ready and leftover.name == name and kept is None:
            kept = leftover
        else:
            leftover.remove(force=True)
    return kept


def _finishes_starting(container, heartbeat: Heartbeat) -> bool:
    """Whether a container became ready; False once it has exited or never answers."""
    port = container.labels.get(PORT_LABEL)
    if container.status not in ("running", "created", "restarting"):
        return False
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", heartbeat, container=container)
    except UnhealthyService:
        return False
    return True


def _live_container(settings, client, router: LocalRouter, service: str, environment: str):
    port = router.upstream(service, environment)
    for container in _containers(settings, client, service, environment):
        if port is not None and container.labels.get(PORT_LABEL) == str(port):
            return container
    return None


def _refuse_another_pairs_container(settings, client, name: str, service, environment) -> None:
    """A container under the new version's name is never removed or reused by name: ours
    went with the leftovers, so one still there is another pair's, and refused."""
    try:
        found = client.containers.get(name)
    except NotFound:
        return
    require_ours(f"the container `{name}`", found.labels, settings, service, environment)


def _containers(settings: Settings, client, service: str, environment: str) -> list:
    return client.containers.list(
        all=True, filters={"label": label_filters(settings, service, environment)}
    )


def _log_tail(container, lines: int = 15, known: list[str] | tuple = ()) -> list[str]:
    """The container's last lines for the thread, without the service's `known` secret
    values or anything shaped like a secret (it may print its DATABASE_URL)."""
    try:
        text = container.logs(tail=lines).decode(errors="replace")
    except Exception:  # the logs are a courtesy; the rollback is what matters
        return []
    return scrub_tail(text.splitlines(), known)


def _result(request: DeployInput, url: str, container: str) -> DeployResult:
    return DeployResult(environment=request.environment, url=url, container=container)


class LocalDocker:
    """The `local` target: the worker's own Docker engine, behind the local router."""

    def deploy(
        self, settings: Settings, request: DeployInput, heartbeat: Heartbeat
    ) -> DeployResult:
        return deploy_blue_green(settings, request, heartbeat)

    def verify(self, settings: Settings, deployed: DeployResult, heartbeat: Heartbeat) -> None:
        """The stable address itself answers: the router points at a ready version."""
        wait_until_ready(deployed.url, heartbeat, timeout=30)

    def tear_down(self, settings: Settings, request: TeardownInput, heartbeat: Heartbeat) -> str:
        return tear_down(settings, request)

    def describe_teardown(self, settings: Settings, request: TeardownInput) -> str:
        database = describe_database(
            settings, request.database, request.service, request.environment
        )
        address = LocalRouter(settings).address(request.service, request.environment)
        events = " and what it made on its brokers" if request.event_sinks else ""
        events = events or (" and its consumers' queues" if request.consumer_queues else "")
        return f"its containers, its address {address}{events} and {database} with all its rows"
