"""A consuming service's consumer, locally: a second container of the same image beside
the API (`python -m app.consumer`), with the API container's settings, network and volumes
and where each publisher's events are (its exchange or stream in this environment).

It starts once the new version is ready (its migrations have run) and before the switch;
the earlier version's consumer goes after it. For that moment both read the same queue,
which is harmless: each event is handled once (the service's inbox).
"""

from __future__ import annotations

import json
import time

from docker.errors import NotFound

from activities.deploy_targets.base import DeployFailed, Heartbeat
from activities.deploy_targets.local_network import GATEWAY_HOST
from activities.deploy_targets.naming import label_filters, labels, resource_name
from activities.deploy_targets.ownership import require_ours
from activities.log_scrub import scrub_tail
from shipmate.settings import Settings
from workflows.stage_models import DeployInput

ROLE_LABEL = "shipmate.role"
CONSUMER = "consumer"
STEADY = 3.0  # seconds a new consumer must keep running: one that cannot start exits at once


class ConsumerFailed(DeployFailed):
    """The new version's consumer did not keep running."""


def start_consumer(
    settings: Settings,
    client,
    request: DeployInput,
    api,
    extra_labels: dict,
    heartbeat: Heartbeat,
    known: list[str] | tuple = (),
):
    """The consumer of the version `api` runs; None for a service that consumes nothing.
    One that does not keep running is removed; its last lines come without `known`
    secret values (it has the API's settings)."""
    if not request.consumes:
        return None
    service, environment = request.service, request.environment
    name = f"{api.name}-{CONSUMER}"
    try:  # an earlier attempt's, whose worker died
        earlier = client.containers.get(name)
        require_ours(f"the container `{name}`", earlier.labels, settings, service, environment)
        earlier.remove(force=True)
    except NotFound:
        pass
    topics = {p: resource_name(settings, p, environment) for p in request.consumes}
    heartbeat(f"starting v{request.version}'s consumer")
    consumer = client.containers.run(
        api.image.id,
        command=["python3", "-m", "app.consumer"],
        name=name,
        detach=True,
        network=api.attrs["HostConfig"]["NetworkMode"],
        extra_hosts={GATEWAY_HOST: "host-gateway"},
        labels={**labels(settings, service, environment), **extra_labels, ROLE_LABEL: CONSUMER},
        environment=[
            *api.attrs["Config"]["Env"],
            f"CONSUME_TOPICS={json.dumps(topics)}",
            f"CONSUMER_GROUP={resource_name(settings, service, environment)}",
        ],
        volumes=api.attrs["HostConfig"].get("Binds") or [],
        healthcheck={"test": ["NONE"]},  # the image's checks /health, which a consumer lacks
        restart_policy={"Name": "unless-stopped"},
    )
    time.sleep(STEADY)
    consumer.reload()
    if consumer.status != "running" or consumer.attrs["RestartCount"] > 0:
        code = consumer.attrs["State"]["ExitCode"]
        tail = scrub_tail(consumer.logs(tail=15).decode(errors="replace").splitlines(), known)
        consumer.remove(force=True)
        raise ConsumerFailed(f"its consumer did not keep running (it exited with {code})", tail)
    return consumer


def running_consumer(
    settings: Settings, client, request: DeployInput, api, extra_labels: dict, heartbeat, known
):
    """The live version's consumer, started again if a worker died before it ran."""
    if not request.consumes:
        return None
    try:
        found = client.containers.get(f"{api.name}-{CONSUMER}")
        if found.status == "running":
            return found
    except NotFound:
        pass
    return start_consumer(settings, client, request, api, extra_labels, heartbeat, known)


def retire_consumers(settings: Settings, client, service: str, environment: str, keep=None):
    """Every consumer of the pair but `keep`, stopped (what it holds goes back to the
    queue) and removed."""
    wanted = [*label_filters(settings, service, environment), f"{ROLE_LABEL}={CONSUMER}"]
    for consumer in client.containers.list(all=True, filters={"label": wanted}):
        if keep is None or consumer.id != keep.id:
            consumer.stop(timeout=10)
            consumer.remove(force=True)
