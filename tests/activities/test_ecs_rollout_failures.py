"""What a person reads when a new version fails on ECS, or its database cannot go back.

moto runs no containers and no circuit breaker. Here moto runs in server mode inside
the test process, so the test can play the part of ECS's scheduler that moto lacks: it
leaves the service as AWS documents a circuit-breaker rollback (the failed deployment,
the previous revision primary again, the service's events), writes the failed tasks'
lines to CloudWatch as the awslogs driver would, and stops a one-off task with the exit
code its container would give. Shipmate's activities talk to it over HTTP as to AWS.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from moto.ecs.models import ecs_backends
from moto.moto_api import state_manager
from moto.server import ThreadedMotoServer
from temporalio.exceptions import ApplicationError

from cli import devstack
from tests.activities.test_ecs_deploy import aws, deploy, ecs_name, ecs_service, verify

CLUSTER = "shipmate-staging"
BREAKER = "ECS deployment circuit breaker: tasks failed to start."


@pytest.fixture()
def own_aws(settings, monkeypatch):
    """moto in server mode in this process, and settings pointing at it; its ECS backend,
    for the test to act as the scheduler."""
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")  # as the session's moto is started
    port = devstack.free_port()
    quiet = logging.getLogger("werkzeug")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        local = settings.model_copy(update={"aws_endpoint_url": f"http://127.0.0.1:{port}"})
        account = aws(local, "sts").get_caller_identity()["Account"]
        yield local, ecs_backends[account][local.aws_region]
    finally:
        state_manager.unset_transition("ecs::task")
        httpx.post(f"http://127.0.0.1:{port}/moto-api/reset", timeout=10)  # its backends
        server.stop()
        quiet.setLevel(level)


def deployment(revision: str, status: str, rollout: str, running: int, reason: str) -> dict:
    now = datetime.now(UTC)
    return {
        "id": f"ecs-svc/{uuid.uuid4().int % 10**12}",
        "status": status,
        "taskDefinition": revision,
        "desiredCount": 1 if status == "PRIMARY" else 0,
        "runningCount": running,
        "pendingCount": 0,
        "failedTasks": 0 if status == "PRIMARY" else 3,
        "launchType": "FARGATE",
        "rolloutState": rollout,
        "rolloutStateReason": reason,
        "createdAt": now,
        "updatedAt": now,
    }


def circuit_breaker_rolls_back(backend, name: str, failed: str, previous: str, drained: bool):
    """What ECS leaves when the new revision's tasks never turn healthy and the breaker
    (rollback on) puts the previous revision back: the failed deployment while it drains,
    or only its events once it has."""
    service = backend.services[f"{CLUSTER}:{name}"]
    primary = deployment(previous, "PRIMARY", "COMPLETED" if drained else "IN_PROGRESS", 1, "")
    broken = deployment(failed, "ACTIVE", "FAILED", 0, BREAKER)
    now = datetime.now(UTC)
    said = [  # newest first, as describe_services lists them
        f"(service {name}) has reached a steady state.",
        f"(service {name}) rolling back to deployment {primary['id']}.",
        f"(service {name}) (deployment {broken['id']}) deployment failed: tasks failed to start.",
    ]
    service.task_definition = previous
    service.deployments = [primary] if drained else [primary, broken]
    service.events = [
        {"id": str(uuid.uuid4()), "createdAt": now - timedelta(seconds=i), "message": m}
        for i, m in enumerate(said if drained else said[1:])
    ]


def task_logs(settings, service: str, lines: list[str], seconds_ago: int) -> None:
    """A task's stdout in CloudWatch, in the stream the awslogs driver names."""
    logs = aws(settings, "logs")
    group = f"/shipmate/{settings.installation}/{service}/staging"
    stream = f"staging/{service}/{uuid.uuid4().hex}"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    start = int((time.time() - seconds_ago) * 1000)
    events = [{"timestamp": start + i, "message": line} for i, line in enumerate(lines)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


FAILED_LINES = [
    '{"level": "INFO", "message": "migrating to v0002"}',
    "sqlalchemy.exc.OperationalError: connection to server at 10.0.1.5 timed out",
    "ERROR:    Application startup failed. Exiting.",
]


@pytest.mark.parametrize("drained", [False, True], ids=["while-draining", "after-draining"])
def test_a_version_ecs_rolled_back_is_reported_with_its_cloudwatch_lines(own_aws, drained):
    """The thread says the new version never became healthy, why ECS says so, that the
    previous version keeps serving at the same address, and what the failed tasks
    wrote last, not what the healthy old ones wrote."""
    settings, backend = own_aws
    service = f"orders-{uuid.uuid4().hex[:6]}"
    v1 = deploy(settings, service, f"{settings.registry}/{service}:v1", version=1)
    task_logs(settings, service, ["INFO:     Application startup complete."], seconds_ago=600)
    v2 = deploy(settings, service, f"{settings.registry}/{service}:v2", version=2)
    circuit_breaker_rolls_back(
        backend, ecs_name(settings, service), v2.task_definition, v1.task_definition, drained
    )
    task_logs(settings, service, FAILED_LINES, seconds_ago=5)

    with pytest.raises(ApplicationError) as raised:
        verify(settings, v2)

    said = raised.value.message  # what the thread shows, after the error's type
    why = BREAKER if not drained else f"(service {ecs_name(settings, service)}) rolling back"
    assert said.startswith(f"rolled back: the new version never became healthy on ECS ({why}")
    assert said.endswith(f"); the previous version keeps serving at {v1.url}")
    assert v1.url == v2.url
    assert raised.value.type == "Unhealthy" and raised.value.non_retryable
    (log_tail,) = raised.value.details
    assert log_tail == FAILED_LINES
    assert ecs_service(settings, service)["taskDefinition"] == v1.task_definition


def container_exits(backend, code: int, reason: str) -> threading.Thread:
    """ECS running the one-off downgrade task: its container exits with `code`."""
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})

    before = set(backend.tasks.get(CLUSTER, {}))

    def run():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            started = [
                task
                for arn, task in list(backend.tasks.get(CLUSTER, {}).items())
                if task.started_by == "shipmate-rollback" and arn not in before
            ]
            if started:
                (task,) = started
                time.sleep(0.5)  # it runs a moment
                task.containers[0].exitCode = code
                task.containers[0].last_status = "STOPPED"
                task.stopped_reason = reason
                task.desired_status = "STOPPED"
                task.status = "STOPPED"
                return
            time.sleep(0.1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("exit_code", [1, 0])
def test_a_downgrade_that_exits_non_zero_refuses_the_roll_back(own_aws, exit_code):
    """`alembic downgrade` failing leaves the database on the newer schema, which the
    older version cannot use: the roll back is refused with the exit code and ECS's
    reason, and the newer version keeps serving. Exit 0 is the control: it rolls back."""
    settings, backend = own_aws
    service = f"orders-{uuid.uuid4().hex[:6]}"
    v1 = deploy(settings, service, f"{settings.registry}/{service}:v1", version=1)
    v2 = deploy(settings, service, f"{settings.registry}/{service}:v2", version=2)
    ecs = container_exits(backend, exit_code, "Essential container in task exited")

    def roll_back():
        return deploy(
            settings,
            service,
            f"{settings.registry}/{service}:v1",
            version=1,
            migrate_down_with=f"{settings.registry}/{service}:v2",
        )

    if exit_code == 0:
        assert roll_back().task_definition == v1.task_definition
        assert ecs_service(settings, service)["taskDefinition"] == v1.task_definition
        return
    with pytest.raises(ApplicationError) as raised:
        roll_back()
    ecs.join(timeout=5)
    assert raised.value.message == (
        "cannot roll the database back to v0001: the migration exited with 1 (Essential "
        "container in task exited); the live version keeps serving"
    )
    assert raised.value.type == "DeployRefused" and raised.value.non_retryable
    assert ecs_service(settings, service)["taskDefinition"] == v2.task_definition
    tasks = aws(settings, "ecs").list_tasks(cluster=CLUSTER, startedBy="shipmate-rollback")
    (ran,) = aws(settings, "ecs").describe_tasks(cluster=CLUSTER, tasks=tasks["taskArns"])["tasks"]
    assert ran["taskDefinitionArn"] == v2.task_definition  # the newer version's migrations
    assert ran["overrides"]["containerOverrides"][0]["command"] == [
        "alembic",
        "downgrade",
        "v0001",
    ]


def test_a_database_rds_takes_too_long_to_delete_is_named_not_waited_on_for_ever(
    own_aws, monkeypatch
):
    """RDS still deleting the instance when the tear-down's wait ends: the stage says
    which database and what to do, before its own time limit cuts it off unexplained."""
    from moto.rds.models import rds_backends

    from activities.deploy_targets import ecs_database
    from activities.deploy_targets.base import DeployFailed

    local, _ = own_aws
    rds = aws(local, "rds")
    identifier = f"slow-{uuid.uuid4().hex[:6]}"
    rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        DBInstanceClass="db.t4g.micro",
        Engine="postgres",
        MasterUsername="shipmate",
        MasterUserPassword="a-long-password-1",
        AllocatedStorage=20,
    )
    account = aws(local, "sts").get_caller_identity()["Account"]
    rds_backends[account][local.aws_region].databases[identifier].status = "deleting"
    monkeypatch.setattr(ecs_database, "DELETE_TIMEOUT", 0)
    said = []
    with pytest.raises(DeployFailed) as stopped:
        ecs_database.delete_database(rds, identifier, said.append)
    assert identifier in str(stopped.value) and "retry the tear-down" in str(stopped.value)
