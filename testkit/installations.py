"""What an installation left on the Docker engine, removed by its label: every
container, volume and network its deploys made (databases go with testkit.databases)."""

from __future__ import annotations

import docker


def remove_deployed(installation: str) -> None:
    engine = docker.from_env()
    label = f"shipmate.installation={installation}"
    for container in engine.containers.list(all=True, filters={"label": label}):
        container.remove(force=True)
    for volume in engine.volumes.list(filters={"label": label}):
        volume.remove(force=True)
    for network in engine.networks.list(filters={"label": label}):
        network.remove()
