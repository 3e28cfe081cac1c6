"""Tear down a service's environment on ECS: what deploy_to_ecs made, and nothing else.

In order, so nothing still in use is deleted under it: the ECS service (scaled to zero,
then deleted), its listener and target group (and the environment's load balancer once
no service uses it), every revision of its task definition family, its RDS database
(with the RDS-managed password secret) and subnet group, its own secret in Secrets
Manager (deleted without a recovery window: the approvers were told), its events queue
and its log group. A retried tear-down finds things gone and goes on. Before any of it,
each that is there must carry this pair's tags (ecs_ownership): one that names another
pair refuses the whole tear-down, so nothing is deleted.
"""

from __future__ import annotations

import time

from botocore.exceptions import ClientError

from activities.deploy_targets.base import Heartbeat
from activities.deploy_targets.ecs_database import (
    delete_database,
    describe_instance,
    instance_identifier,
)
from activities.deploy_targets.ecs_load_balancer import (
    find_load_balancer,
    find_route,
    remove_route,
)
from activities.deploy_targets.ecs_ownership import Owner, family_of
from activities.deploy_targets.ecs_resources import (
    active_service,
    aws_client,
    cluster_name,
    ecs_service_name,
    log_group_name,
    queue_name,
    secret_name,
)
from shipmate.settings import Settings
from workflows.stage_models import TeardownInput

IN_USE_TIMEOUT = 10 * 60  # seconds a target group may take to drain its tasks

GONE = {
    "ServiceNotFoundException",
    "ClusterNotFoundException",
    "ResourceNotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
}


def describe_ecs_teardown(settings: Settings, request: TeardownInput) -> str:
    service, env = request.service, request.environment
    # what cannot come back first: a confirm dialog shows only its first 300 characters
    return (
        f"the RDS database `{instance_identifier(settings, service, env)}` and all its data "
        f"(no final snapshot), the ECS service `{ecs_service_name(settings, service, env)}` in "
        f"`{cluster_name(settings, env)}` with its load balancer port and task definitions, "
        f"the secret `{secret_name(settings, service, env)}` and its logs"
    )


def tear_down_ecs(settings: Settings, request: TeardownInput, heartbeat: Heartbeat) -> str:
    service, env = request.service, request.environment
    ecs = aws_client(settings, "ecs")
    cluster = cluster_name(settings, env)
    name = ecs_service_name(settings, service, env)
    _check_all_ours(settings, service, env)
    removed = []
    if active_service(ecs, cluster, name):
        ecs.update_service(cluster=cluster, service=name, desiredCount=0)
        _ignoring_gone(lambda: ecs.delete_service(cluster=cluster, service=name, force=True))
        removed.append(f"ECS service {name}")
    if _while_in_use(
        lambda: remove_route(settings, aws_client(settings, "elbv2"), service, env), heartbeat
    ):
        removed.append("its load balancer port and target group")
    revisions = _revisions(ecs, name, "ACTIVE")
    for arn in revisions:
        ecs.deregister_task_definition(taskDefinition=arn)
    if revisions:
        removed.append(f"{len(revisions)} task definition revisions")
    inactive = _revisions(ecs, name, "INACTIVE")
    for start in range(0, len(inactive), 10):  # AWS deletes ten at a time
        ecs.delete_task_definitions(taskDefinitions=inactive[start : start + 10])
    database = instance_identifier(settings, service, env)
    if delete_database(aws_client(settings, "rds"), database, heartbeat):
        removed.append(f"database {database}")
    secret = secret_name(settings, service, env)
    manager = aws_client(settings, "secretsmanager")
    if _ignoring_gone(lambda: manager.describe_secret(SecretId=secret)):
        manager.delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)
        removed.append(f"secret {secret}")
    sqs = aws_client(settings, "sqs")
    queue = queue_name(settings, service, env)
    if _ignoring_gone(
        lambda: sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"])
    ):
        removed.append(f"queue {queue}")
    logs = aws_client(settings, "logs")
    group = log_group_name(settings, service, env)
    if _ignoring_gone(lambda: logs.delete_log_group(logGroupName=group)):
        removed.append(f"log group {group}")
    return ", ".join(removed) or "nothing was left"


def _check_all_ours(settings: Settings, service: str, env: str) -> None:
    """Everything tear-down would delete, checked before the first deletion."""
    owner = Owner(settings, service, env)
    ecs = aws_client(settings, "ecs")
    name = ecs_service_name(settings, service, env)
    owner.ecs_service(ecs, cluster_name(settings, env), name)
    for status in ("ACTIVE", "INACTIVE"):
        for arn in _revisions(ecs, name, status):
            owner.task_definition(ecs, arn)
    elb = aws_client(settings, "elbv2")
    find_route(settings, elb, service, env)  # checks the target group
    if (balancer := find_load_balancer(settings, elb, env)) is not None:
        owner.load_balancer(elb, balancer)
    rds = aws_client(settings, "rds")
    instance = describe_instance(rds, instance_identifier(settings, service, env))
    if instance is not None:  # its subnet group, of the same name, goes with it
        owner.instance(instance)
    owner.secret(aws_client(settings, "secretsmanager"), secret_name(settings, service, env))
    owner.queue(aws_client(settings, "sqs"), queue_name(settings, service, env))
    owner.log_group(aws_client(settings, "logs"), log_group_name(settings, service, env))


def _revisions(ecs, family: str, status: str) -> list[str]:
    """The family's revisions (a family prefix also matches longer names: those are not ours)."""
    pages = ecs.get_paginator("list_task_definitions").paginate(familyPrefix=family, status=status)
    arns = [arn for page in pages for arn in page["taskDefinitionArns"]]
    return [arn for arn in arns if family_of(arn) == family]


def _while_in_use(call, heartbeat: Heartbeat, timeout: float = IN_USE_TIMEOUT):
    """A target group stays in use until ECS has drained the deleted service's tasks."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUse" or time.monotonic() > deadline:
                raise
        heartbeat("waiting for the service's tasks to drain from its target group")
        time.sleep(10)


def _ignoring_gone(call) -> bool:
    """Run an AWS call; False when what it acts on is already gone (a retried tear-down)."""
    try:
        call()
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in GONE:
            return False
        raise
