"""Watching an ECS rollout to its end, and the one-off task that takes a database back.

ECS starts the new tasks beside the old ones and moves the load balancer to them once
they are healthy. When they never are, the deployment circuit breaker puts the previous
revision back; that is reported the way the local target reports it: "rolled back", with
the new version's last log lines from CloudWatch.
"""

from __future__ import annotations

import json
import time

from botocore.exceptions import ClientError

from activities.deploy_targets.base import Heartbeat
from activities.deploy_targets.ecs_resources import (
    EcsDeployFailed,
    active_service,
    aws_client,
    cluster_name,
    log_group_name,
    secret_name,
)
from activities.log_scrub import scrub_tail
from activities.service_secrets import secret_values
from shipmate.settings import Settings
from workflows.stage_models import DeployResult

# Seconds a new revision may take to serve alone (verify's limit in workflows/stage_limits.py
# is longer, so this says why before the stage is cut off).
ROLLOUT_TIMEOUT = 15 * 60

MIGRATION_TIMEOUT = 15 * 60


def rollout_verdict(service: dict, task_definition: str) -> tuple[str, str]:
    """("done" | "waiting" | "rolled back" | "failed" | "replaced", detail) for our revision,
    read from describe_services as AWS documents it."""
    ours = [d for d in service["deployments"] if d["taskDefinition"] == task_definition]
    serving = service["taskDefinition"]
    if not ours and serving == task_definition:  # the primary deployment runs the service's
        ours = [d for d in service["deployments"] if d["status"] == "PRIMARY"]
    if not ours:
        if serving != task_definition:
            rollback = _rollback_event(service)
            if rollback:  # the failed deployment is drained already; its events remain
                return "rolled back", rollback
            revision = serving.rsplit("/", 1)[-1]
            return "replaced", f"{service['serviceName']} was deployed again meanwhile ({revision})"
        return "waiting", "not started"
    deployment = ours[0]
    state = deployment.get("rolloutState", "IN_PROGRESS")
    reason = deployment.get("rolloutStateReason") or _latest_event(service)
    if state == "FAILED":
        if service["taskDefinition"] != task_definition:
            return "rolled back", reason
        return "failed", reason
    running, desired = deployment["runningCount"], deployment["desiredCount"]
    if deployment["status"] == "PRIMARY" and state == "COMPLETED" and running >= desired:
        return "done", ""
    return "waiting", f"{state}, {running} of {desired} tasks running"


def wait_until_rolled_out(
    settings: Settings,
    deployed: DeployResult,
    heartbeat: Heartbeat,
    timeout: float = ROLLOUT_TIMEOUT,
) -> None:
    """Wait for our revision to serve alone; raise saying "rolled back" when ECS put the
    previous one back."""
    ecs = aws_client(settings, "ecs")
    cluster = cluster_name(settings, deployed.environment)
    deadline = time.monotonic() + timeout
    detail = "not started"
    while time.monotonic() < deadline:
        current = active_service(ecs, cluster, deployed.container)
        if current is None:
            raise EcsDeployFailed(f"ECS service {deployed.container} is gone from {cluster}")
        verdict, detail = rollout_verdict(current, deployed.task_definition)
        if verdict == "done":
            return
        if verdict == "rolled back":
            raise EcsDeployFailed(
                f"rolled back: the new version never became healthy on ECS ({detail}); the "
                f"previous version keeps serving at {deployed.url}",
                log_tail(settings, deployed),
            )
        if verdict in ("failed", "replaced"):
            raise EcsDeployFailed(f"the ECS rollout failed: {detail}", log_tail(settings, deployed))
        heartbeat(f"waiting for {deployed.container}: {detail}")
        time.sleep(2)
    raise EcsDeployFailed(
        f"{deployed.container} did not finish rolling out in {timeout / 60:.0f} min ({detail}); "
        "its events in the ECS console say why"
    )


def log_tail(settings: Settings, deployed: DeployResult, lines: int = 20) -> list[str]:
    """The newest task's last lines, without the service's secrets or anything shaped like
    one; none when AWS has none yet (it is only a courtesy)."""
    logs = aws_client(settings, "logs")
    group = log_group_name(settings, deployed.service, deployed.environment)
    try:
        streams = logs.describe_log_streams(
            logGroupName=group, orderBy="LastEventTime", descending=True, limit=1
        )["logStreams"]
        if not streams:
            return []
        events = logs.get_log_events(
            logGroupName=group,
            logStreamName=streams[0]["logStreamName"],
            limit=lines,
            startFromHead=False,
        )["events"]
    except ClientError:
        return []
    return scrub_tail([event["message"] for event in events], _known_secrets(settings, deployed))


def _known_secrets(settings: Settings, deployed: DeployResult) -> list[str]:
    """The service's own secret values (its secret in Secrets Manager), to take out of
    its log lines. The RDS-managed database password is not the worker's to read: a
    DATABASE_URL printed with it is caught by its shape."""
    manager = aws_client(settings, "secretsmanager")
    try:
        stored = manager.get_secret_value(
            SecretId=secret_name(settings, deployed.service, deployed.environment)
        )
        return secret_values(json.loads(stored["SecretString"]))
    except (ClientError, KeyError, ValueError):
        return []


def run_migration_down(
    settings: Settings,
    environment: str,
    task_definition: str,
    container: str,
    revision: str,
    network: dict,
    heartbeat: Heartbeat,
) -> None:
    """Run the live (newer) revision once as `alembic downgrade <revision>`: only its own
    migrations know how to undo themselves. A non-zero exit refuses the rollback."""
    ecs = aws_client(settings, "ecs")
    cluster = cluster_name(settings, environment)
    started = ecs.run_task(
        cluster=cluster,
        taskDefinition=task_definition,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": network},
        overrides={
            "containerOverrides": [
                {"name": container, "command": ["alembic", "downgrade", revision]}
            ]
        },
        startedBy="shipmate-rollback",
    )
    if started.get("failures") or not started.get("tasks"):
        reason = (started.get("failures") or [{}])[0].get("reason", "no task started")
        raise EcsDeployFailed(f"cannot start the database rollback task: {reason}")
    task_arn = started["tasks"][0]["taskArn"]
    deadline = time.monotonic() + MIGRATION_TIMEOUT
    while time.monotonic() < deadline:
        (task,) = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"]
        if task["lastStatus"] == "STOPPED":
            code = (task.get("containers") or [{}])[0].get("exitCode")
            if code == 0:
                return
            raise EcsDeployFailed(
                f"cannot roll the database back to {revision}: the migration exited with "
                f"{code} ({task.get('stoppedReason', 'no reason given')}); the live version "
                "keeps serving"
            )
        heartbeat(f"rolling the database back to {revision}: {task['lastStatus']}")
        time.sleep(2)
    raise EcsDeployFailed(f"the database rollback to {revision} did not finish in 15 min")


def _rollback_event(service: dict) -> str | None:
    recent = [e["message"] for e in (service.get("events") or [])[:10]]
    return next((m for m in recent if "rolling back" in m or "circuit breaker" in m), None)


def _latest_event(service: dict) -> str:
    events = service.get("events") or []
    return events[0]["message"] if events else "no reason given"
