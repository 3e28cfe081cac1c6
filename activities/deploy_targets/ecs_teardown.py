"""Tear down a service's environment on ECS: what deploy_to_ecs made, and nothing else.

The ECS service (scaled to zero, then deleted), every revision of its task definition
family, its secret in Secrets Manager (deleted without a recovery window: the approvers
were told), its events queue when it has one, and its log group once no environment of
the service is left.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from activities.deploy_targets.ecs import aws_client, cluster_name, ecs_service_name
from shipmate.settings import Settings
from workflows.models import TeardownInput

GONE = {
    "ServiceNotFoundException",
    "ClusterNotFoundException",
    "ResourceNotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
}


def describe_ecs_teardown(settings: Settings, request: TeardownInput) -> str:
    name = ecs_service_name(request.service, request.environment)
    return (
        f"the ECS service `{name}` in `{cluster_name(settings, request.environment)}`, its "
        f"task definitions and the secret `shipmate/{request.service}/{request.environment}`"
    )


def tear_down_ecs(settings: Settings, request: TeardownInput) -> str:
    ecs = aws_client(settings, "ecs")
    cluster = cluster_name(settings, request.environment)
    name = ecs_service_name(request.service, request.environment)
    removed = []
    if _active_service(ecs, cluster, name):
        ecs.update_service(cluster=cluster, service=name, desiredCount=0)
        _ignoring_gone(lambda: ecs.delete_service(cluster=cluster, service=name, force=True))
        removed.append(f"ECS service {name}")
    revisions = ecs.list_task_definitions(familyPrefix=name)["taskDefinitionArns"]
    for arn in revisions:
        ecs.deregister_task_definition(taskDefinition=arn)
    if revisions:
        removed.append(f"{len(revisions)} task definition revisions")
    secret = f"shipmate/{request.service}/{request.environment}"
    manager = aws_client(settings, "secretsmanager")
    if _ignoring_gone(
        lambda: manager.delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)
    ):
        removed.append(f"secret {secret}")
    sqs = aws_client(settings, "sqs")
    queue = f"shipmate-{request.service}-{request.environment}-events"
    if _ignoring_gone(
        lambda: sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"])
    ):
        removed.append(f"queue {queue}")
    return ", ".join(removed) or "nothing was left"


def _active_service(ecs, cluster: str, name: str) -> bool:
    try:
        found = ecs.describe_services(cluster=cluster, services=[name])["services"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in GONE:
            return False
        raise
    return any(s["status"] == "ACTIVE" for s in found)


def _ignoring_gone(call) -> bool:
    """Run an AWS call; False when what it acts on is already gone (a retried tear-down)."""
    try:
        call()
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in GONE:
            return False
        raise
