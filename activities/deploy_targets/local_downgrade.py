"""Roll a service's database back to an older version's revision, in a container of its own.

Only the newer version's migrations know how to undo themselves, so its image runs
`alembic downgrade`. A downgrade that an earlier attempt started (its worker died) is
waited for, never doubled or killed midway: either leaves a half-made schema.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import requests
from docker.errors import APIError, ContainerError, NotFound

from activities.deploy_targets.base import DeployFailed, Heartbeat
from activities.deploy_targets.local_network import GATEWAY_HOST
from activities.deploy_targets.naming import labels, resource_name
from activities.deploy_targets.ownership import require_ours
from activities.images import docker_client
from activities.log_scrub import scrub_tail
from shipmate.settings import Settings
from workflows.stage_models import DeployInput

DOWNGRADE_WAIT = 600.0  # an earlier attempt's downgrade, waited for before this one


def migrate_down(
    settings: Settings,
    request: DeployInput,
    database_url: str,
    volumes,
    network: str,
    heartbeat: Heartbeat,
) -> None:
    """Put the database back to the older version's revision with the newer version's own
    migrations (only they know how); a migration that dropped data refuses, and so do we.
    An earlier attempt's downgrade still running (its worker died) is waited for, never
    doubled."""
    revision = f"v{request.version:04d}"
    client = docker_client(settings)
    name = f"{resource_name(settings, request.service, request.environment)}-down-{revision}"
    _wait_for_earlier_downgrade(settings, client, request, name, heartbeat)
    try:
        client.containers.run(
            request.migrate_down_with,
            ["alembic", "downgrade", revision],
            name=name,
            labels=labels(settings, request.service, request.environment),
            network=network,
            extra_hosts={GATEWAY_HOST: "host-gateway"},
            environment={"DATABASE_URL": database_url, "ENVIRONMENT": request.environment},
            volumes={volume: {"bind": path, "mode": "rw"} for volume, path in volumes.items()},
            remove=True,
            stderr=True,
        )
    except ContainerError as exc:  # the migration itself failed: its own words say why
        # Anything else (the engine, a missing image) is not the migration's verdict: it
        # propagates, so Temporal retries the deploy.
        words = exc.stderr or str(exc).encode()
        said = [line for line in words.decode(errors="replace").splitlines() if line.strip()]
        lines = scrub_tail(said, known=[urlsplit(database_url).password or ""])
        reason = next(
            (line for line in reversed(lines) if "Error" in line), lines[-1] if lines else ""
        )
        raise DeployFailed(
            f"cannot roll the database back to v{request.version}: {reason.strip()}; "
            "the live version keeps serving",
            lines[-20:],
        ) from None


def _wait_for_earlier_downgrade(settings, client, request: DeployInput, name: str, heartbeat):
    """An earlier attempt's downgrade, still running after its worker died, ends first; one
    still running after DOWNGRADE_WAIT is left running and this attempt fails, to be retried:
    a downgrade killed midway leaves a half-made schema."""
    try:
        earlier = client.containers.get(name)
    except NotFound:
        return
    require_ours(f"the container `{name}`", earlier.labels, settings, *_pair(request))
    deadline = time.monotonic() + DOWNGRADE_WAIT
    while time.monotonic() < deadline:
        heartbeat(f"letting an earlier attempt's {name} finish")
        try:
            earlier.wait(timeout=5)
            break
        except (APIError, requests.RequestException):
            continue  # still running
    else:
        raise RuntimeError(f"an earlier attempt's downgrade ({name}) is still running")
    try:
        earlier.remove(force=True)
    except (NotFound, APIError):
        pass  # it removed itself on exit, or is doing so


def _pair(request: DeployInput) -> tuple[str, str]:
    return request.service, request.environment
