"""Deploy a service image to the local Docker engine and check that it answers.

One container per service and environment, named after both, so a repeated deploy of
the same image is a no-op and a new image replaces the old container.
"""

from __future__ import annotations

import json
import os
import time

import httpx
from docker.errors import NotFound

from activities.deploy_targets.base import DeployFailed, Heartbeat
from activities.images import docker_client
from activities.service_secrets import new_service_secrets
from shipmate.settings import Settings
from workflows.models import DeployInput, DeployResult


class UnhealthyService(DeployFailed):
    """The deployed service did not answer /health in time."""


def container_name(service: str, environment: str) -> str:
    return f"shipmate-{service}-{environment}"


def service_secrets(settings: Settings, service: str, environment: str) -> dict[str, str]:
    """Per service and environment, made once and kept on the worker host (mode 0600):
    the JWT signing secret and the first admin's password never pass through Slack."""
    path = settings.state_dir.resolve() / "secrets" / f"{service}-{environment}.json"
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    values = new_service_secrets()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(values, out)
    return values


def deploy_container(
    settings: Settings, service: str, environment: str, image: str
) -> DeployResult:
    client = docker_client(settings)
    name = container_name(service, environment)
    wanted = client.images.get(image).id
    try:
        existing = client.containers.get(name)
        if existing.image.id == wanted and existing.status == "running":
            return DeployResult(environment=environment, url=_url(existing), container=name)
        existing.remove(force=True)
    except NotFound:
        pass
    container = client.containers.run(
        image,
        name=name,
        detach=True,
        ports={"8000/tcp": ("127.0.0.1", None)},
        labels={"shipmate.service": service, "shipmate.environment": environment},
        environment={"ENVIRONMENT": environment, **service_secrets(settings, service, environment)},
        restart_policy={"Name": "unless-stopped"},
    )
    container.reload()
    return DeployResult(environment=environment, url=_url(container), container=name)


def wait_until_healthy(url: str, heartbeat: Heartbeat, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{url}/health", timeout=2)
            if response.status_code == 200:
                return
            last_error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last_error = type(exc).__name__
        heartbeat(f"waiting for {url}/health: {last_error}")
        time.sleep(0.5)
    raise UnhealthyService(f"{url}/health did not answer 200 within {timeout:.0f}s ({last_error})")


def _url(container) -> str:
    binding = container.attrs["NetworkSettings"]["Ports"]["8000/tcp"][0]
    return f"http://127.0.0.1:{binding['HostPort']}"


class LocalDocker:
    """The `local` target: the worker's own Docker engine, published on loopback."""

    def deploy(self, settings: Settings, request: DeployInput) -> DeployResult:
        return deploy_container(settings, request.service, request.environment, request.image)

    def verify(self, settings: Settings, deployed: DeployResult, heartbeat: Heartbeat) -> None:
        wait_until_healthy(deployed.url, heartbeat)
