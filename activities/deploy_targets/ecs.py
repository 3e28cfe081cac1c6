"""Deploy a service image to AWS ECS on Fargate, behind a load balancer, with its database.

One ECS service per service and environment, in the environment's cluster, with:
- an RDS database made on the first deploy and kept (ecs_database);
- a target group and a listener port on the environment's ALB, so the URL never changes
  (ecs_load_balancer);
- the service's secrets (JWT signing key, first admin) in Secrets Manager, reaching the
  task as ECS `secrets`, never as values in a task definition, a log line or Slack.
ECS starts a new version beside the old one and its circuit breaker puts the old one
back when the new never becomes healthy (ecs_rollout). Deploying an image that a
revision already runs reuses that revision: a retried activity makes no new one, and a
rollback puts the previous revision itself back. Whatever a deploy finds under the pair's
names (service, secret, queue, log group, database, target group) is used only when its
tags name the pair (ecs_ownership).
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError, NoCredentialsError

from activities.deploy_targets.base import Heartbeat
from activities.deploy_targets.ecs_database import DatabaseAccess, ensure_database
from activities.deploy_targets.ecs_load_balancer import CONTAINER_PORT, ensure_route
from activities.deploy_targets.ecs_ownership import Owner
from activities.deploy_targets.ecs_resources import (
    PERMANENT_ERRORS,
    EcsDeployFailed,
    active_service,
    aws_client,
    cluster_name,
    ecs_service_name,
    log_group_name,
    network,
    queue_name,
    secret_name,
    vpc_ranges,
)
from activities.deploy_targets.ecs_rollout import run_migration_down, wait_until_rolled_out
from activities.deploy_targets.naming import aws_tags
from activities.deploy_targets.sign_in import sign_in_environment
from activities.deploy_targets.traces import trace_environment
from activities.service_secrets import new_service_secrets
from shipmate.settings import Settings
from workflows.spec import DeployTarget
from workflows.stage_models import DeployInput, DeployResult, TeardownInput

HEALTH_COMMAND = (
    'python3 -c "import urllib.request; '
    f"urllib.request.urlopen('http://127.0.0.1:{CONTAINER_PORT}/health', timeout=2)\""
)


def deploy_to_ecs(settings: Settings, request: DeployInput, heartbeat: Heartbeat) -> DeployResult:
    """Make the environment's ECS service run the pushed image; returns once AWS accepted it."""
    brokers = sorted({*request.event_sinks, *request.consumer_sinks} - {"sqs"})
    if brokers or request.consumes:  # refused before anything is made in the account
        raise EcsDeployFailed(
            "on ECS a service publishes its events to SQS only, and runs no consumer yet: "
            f"{', '.join(brokers) or 'a consumer'} is for local deploys for now"
        )
    sign_in_environment(settings, request)  # no issuer for the environment: refused here
    try:
        return _deploy(settings, request, heartbeat)
    except NoCredentialsError:
        raise EcsDeployFailed(
            "no AWS credentials: give the worker a role or set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY"
        ) from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in PERMANENT_ERRORS:
            message = exc.response.get("Error", {}).get("Message", str(exc))
            raise EcsDeployFailed(f"AWS refused the deploy ({code}): {message}") from None
        raise


def _deploy(settings: Settings, request: DeployInput, heartbeat: Heartbeat) -> DeployResult:
    service, environment = request.service, request.environment
    ecs = aws_client(settings, "ecs")
    cluster = cluster_name(settings, environment)
    name = ecs_service_name(settings, service, environment)
    ecs.create_cluster(clusterName=cluster)  # returns the existing cluster when there is one
    Owner(settings, service, environment).ecs_service_and_family(ecs, cluster, name)
    placement, vpc = network(settings)
    database = ensure_database(
        settings,
        aws_client(settings, "rds"),
        service,
        environment,
        request.database,
        placement,
        heartbeat,
    )
    route = ensure_route(
        settings,
        aws_client(settings, "elbv2"),
        service,
        environment,
        placement,
        vpc,
    )
    wanted = _container(settings, request, database, vpc_ranges(settings, vpc))
    task_definition = _revision_running(ecs, name, wanted) or _register(
        ecs, settings, request, wanted
    )
    current = active_service(ecs, cluster, name)
    if current is None:
        _create_service(ecs, settings, request, cluster, task_definition, placement, route)
    elif current["taskDefinition"] != task_definition:
        if request.migrate_down_with:
            run_migration_down(
                settings,
                environment,
                current["taskDefinition"],
                service,
                f"v{request.version:04d}",
                placement,
                heartbeat,
            )
        ecs.update_service(cluster=cluster, service=name, taskDefinition=task_definition)
    return DeployResult(
        environment=environment,
        url=route.url,
        container=name,
        target=DeployTarget.aws_ecs,
        task_definition=task_definition,
        service=service,
    )


def _create_service(ecs, settings, request, cluster, task_definition, placement, route) -> None:
    ecs.create_service(
        cluster=cluster,
        serviceName=ecs_service_name(settings, request.service, request.environment),
        taskDefinition=task_definition,
        desiredCount=1,
        launchType="FARGATE",
        loadBalancers=[
            {
                "targetGroupArn": route.target_group_arn,
                "containerName": request.service,
                "containerPort": CONTAINER_PORT,
            }
        ],
        healthCheckGracePeriodSeconds=120,  # migrations run before /ready answers
        deploymentConfiguration={
            # the new version starts beside the old one, which stops once it is healthy
            "minimumHealthyPercent": 100,
            "maximumPercent": 200,
            # a version that never turns healthy is rolled back instead of retried forever
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
        networkConfiguration={"awsvpcConfiguration": placement},
        tags=aws_tags(settings, request.service, request.environment, key="key"),
    )


def _revision_running(ecs, family: str, wanted: dict) -> str | None:
    """The newest of the family's last ten revisions that runs `wanted` as it is."""
    arns = ecs.list_task_definitions(familyPrefix=family, sort="DESC", maxResults=10)
    for arn in arns["taskDefinitionArns"]:
        described = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        if described.get("family") == family and _same(described["containerDefinitions"], wanted):
            return arn
    return None


def _same(containers: list[dict], wanted: dict) -> bool:
    if len(containers) != 1:
        return False

    def key(container: dict) -> tuple:
        return (
            container.get("image"),
            sorted((e["name"], e["value"]) for e in container.get("environment", [])),
            sorted((s["name"], s["valueFrom"]) for s in container.get("secrets", [])),
        )

    return key(containers[0]) == key(wanted)


def _container(
    settings: Settings, request: DeployInput, database: DatabaseAccess, balancer: list[str]
) -> dict:
    """`balancer`: the ranges the load balancer's addresses come from. uvicorn takes the
    client's address from X-Forwarded-For only from there, so the sign-in throttle counts
    each client, not the balancer (which would lock the admin out for everyone)."""
    service, environment = request.service, request.environment
    secret_arn, keys = _service_secret(settings, service, environment)
    plain = [
        {"name": "ENVIRONMENT", "value": environment},
        {"name": "FORWARDED_ALLOW_IPS", "value": ",".join(balancer)},
        *database.environment(),
    ]
    plain += [{"name": k, "value": v} for k, v in sign_in_environment(settings, request).items()]
    traces = trace_environment(settings, service, environment)
    plain += [{"name": k, "value": v} for k, v in traces.items()]
    if request.publishes_events:
        plain += [
            {"name": "EVENTS_QUEUE_URL", "value": _events_queue(settings, service, environment)},
            {"name": "AWS_REGION", "value": settings.aws_region},
        ]
    log_group = log_group_name(settings, service, environment)
    _ensure_log_group(settings, log_group, service, environment)
    return {
        "name": service,
        "image": request.pushed_image or request.image,
        "essential": True,
        "memory": int(settings.ecs_memory),  # all of the task's: it is the only container
        "portMappings": [{"containerPort": CONTAINER_PORT, "protocol": "tcp"}],
        "environment": plain,
        "secrets": [{"name": key, "valueFrom": f"{secret_arn}:{key}::"} for key in keys]
        + database.secrets(),
        "healthCheck": {
            "command": ["CMD-SHELL", HEALTH_COMMAND],
            "interval": 10,
            "timeout": 3,
            "retries": 3,
            "startPeriod": 60,
        },
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": settings.aws_region,
                "awslogs-stream-prefix": environment,
            },
        },
    }


def _register(ecs, settings: Settings, request: DeployInput, container: dict) -> str:
    task = {
        "family": ecs_service_name(settings, request.service, request.environment),
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": settings.ecs_cpu,
        "memory": settings.ecs_memory,
        "containerDefinitions": [container],
        "tags": aws_tags(settings, request.service, request.environment, key="key"),
    }
    if settings.ecs_execution_role_arn:
        task["executionRoleArn"] = settings.ecs_execution_role_arn
    if settings.ecs_task_role_arn:
        task["taskRoleArn"] = settings.ecs_task_role_arn
    return ecs.register_task_definition(**task)["taskDefinition"]["taskDefinitionArn"]


def _service_secret(settings: Settings, service: str, environment: str) -> tuple[str, list[str]]:
    """The service's secret in Secrets Manager, made once; its ARN and the keys it holds.

    Keys an operator adds in AWS reach the task on the next deploy.
    """
    manager = aws_client(settings, "secretsmanager")
    name = secret_name(settings, service, environment)
    owner = Owner(settings, service, environment)
    if owner.secret(manager, name):
        return _arn_and_keys(manager.get_secret_value(SecretId=name))
    values = new_service_secrets()
    try:
        made = manager.create_secret(
            Name=name,
            SecretString=json.dumps(values),
            Tags=aws_tags(settings, service, environment),
        )
    except ClientError as race:  # another attempt made it first: use what it stored
        if race.response["Error"]["Code"] != "ResourceExistsException":
            raise
        owner.secret(manager, name)
        return _arn_and_keys(manager.get_secret_value(SecretId=name))
    return made["ARN"], sorted(values)


def _arn_and_keys(stored: dict) -> tuple[str, list[str]]:
    return stored["ARN"], sorted(json.loads(stored["SecretString"]))


def _events_queue(settings: Settings, service: str, environment: str) -> str:
    """The queue the service publishes its changes to; creating it again returns it."""
    sqs = aws_client(settings, "sqs")
    name = queue_name(settings, service, environment)
    owner = Owner(settings, service, environment)
    if found := owner.queue(sqs, name):
        return found
    tags = {t["Key"]: t["Value"] for t in aws_tags(settings, service, environment)}
    sqs.create_queue(QueueName=name, tags=tags)
    return owner.queue(sqs, name)  # another's, made meanwhile, is refused


def _ensure_log_group(settings: Settings, log_group: str, service: str, environment: str):
    logs = aws_client(settings, "logs")
    tags = {t["Key"]: t["Value"] for t in aws_tags(settings, service, environment)}
    try:
        logs.create_log_group(logGroupName=log_group, tags=tags)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise
        Owner(settings, service, environment).log_group(logs, log_group)


class AwsEcs:
    """The `aws-ecs` target: a Fargate service per service and environment."""

    def deploy(
        self, settings: Settings, request: DeployInput, heartbeat: Heartbeat
    ) -> DeployResult:
        return deploy_to_ecs(settings, request, heartbeat)

    def verify(self, settings: Settings, deployed: DeployResult, heartbeat: Heartbeat) -> None:
        wait_until_rolled_out(settings, deployed, heartbeat)

    def describe_teardown(self, settings: Settings, request: TeardownInput) -> str:
        from activities.deploy_targets.ecs_teardown import describe_ecs_teardown

        return describe_ecs_teardown(settings, request)

    def tear_down(self, settings: Settings, request: TeardownInput, heartbeat: Heartbeat) -> str:
        from activities.deploy_targets.ecs_teardown import tear_down_ecs

        return tear_down_ecs(settings, request, heartbeat)
