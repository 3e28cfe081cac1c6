"""Deploy a service image to AWS ECS on Fargate and wait for the rollout to finish.

One ECS service per service and environment, in the environment's cluster. The task
definition names the pushed image; the service's secrets (JWT signing key, first
admin) live in Secrets Manager and reach the task as `secrets`, so their values never
appear in a task definition, a log line or Slack. A repeated deploy of the image the
service already runs changes nothing, so a retried activity makes no new revision.
"""

from __future__ import annotations

import json
import time

import boto3
from botocore.exceptions import ClientError, NoCredentialsError

from activities.deploy_targets.base import DeployFailed, Heartbeat
from activities.service_secrets import new_service_secrets
from shipmate.settings import Settings
from workflows.models import DeployInput, DeployResult, TeardownInput
from workflows.spec import DeployTarget

PORT = 8000
HEALTH_COMMAND = (
    'python3 -c "import urllib.request; '
    "urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)\""
)
# AWS answers that no retry will change: the person must fix something first.
PERMANENT_ERRORS = {
    "AccessDeniedException",
    "AccessDenied",
    "ClientException",
    "InvalidParameterException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredTokenException",
}


class EcsDeployFailed(DeployFailed):
    """AWS refused the deploy or the rollout failed; the message says what to fix."""


def aws_client(settings: Settings, service_name: str):
    return boto3.client(
        service_name, region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url
    )


def cluster_name(settings: Settings, environment: str) -> str:
    return settings.ecs_cluster.format(environment=environment)


def ecs_service_name(service: str, environment: str) -> str:
    return f"{service}-{environment}"


def console_url(settings: Settings, cluster: str, service_name: str) -> str:
    region = settings.aws_region
    return (
        f"https://{region}.console.aws.amazon.com/ecs/v2/clusters/{cluster}"
        f"/services/{service_name}/health?region={region}"
    )


def deploy_to_ecs(
    settings: Settings, service: str, environment: str, image: str, publishes_events: bool = False
) -> DeployResult:
    """Make the environment's ECS service run `image`; returns once AWS has accepted it.

    A service that publishes its changes gets its SQS queue, made here, in EVENTS_QUEUE_URL.
    """
    try:
        return _deploy(settings, service, environment, image, publishes_events)
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


def _deploy(
    settings: Settings, service: str, environment: str, image: str, publishes_events: bool
) -> DeployResult:
    ecs = aws_client(settings, "ecs")
    cluster = cluster_name(settings, environment)
    name = ecs_service_name(service, environment)
    ecs.create_cluster(clusterName=cluster)  # returns the existing cluster when there is one
    current = _active_service(ecs, cluster, name)
    if current and _image_of(ecs, current["taskDefinition"]) == image:
        task_definition = current["taskDefinition"]
    else:
        task_definition = _register_task_definition(
            ecs, settings, service, environment, image, publishes_events
        )
        if current:
            ecs.update_service(cluster=cluster, service=name, taskDefinition=task_definition)
        else:
            ecs.create_service(
                cluster=cluster,
                serviceName=name,
                taskDefinition=task_definition,
                desiredCount=1,
                launchType="FARGATE",
                # a task that never turns healthy fails the rollout instead of retrying forever
                deploymentConfiguration={
                    "deploymentCircuitBreaker": {"enable": True, "rollback": True}
                },
                networkConfiguration={"awsvpcConfiguration": _network(settings)},
                tags=[
                    {"key": "shipmate.service", "value": service},
                    {"key": "shipmate.environment", "value": environment},
                ],
            )
    return DeployResult(
        environment=environment,
        url=console_url(settings, cluster, name),
        container=name,
        target=DeployTarget.aws_ecs,
        task_definition=task_definition,
    )


def wait_until_rolled_out(
    settings: Settings,
    deployed: DeployResult,
    heartbeat: Heartbeat,
    timeout: float = 600,
) -> None:
    """Wait for the service's primary deployment to reach COMPLETED with its tasks running."""
    ecs = aws_client(settings, "ecs")
    cluster = cluster_name(settings, deployed.environment)
    deadline = time.monotonic() + timeout
    state = "not started"
    while time.monotonic() < deadline:
        current = _active_service(ecs, cluster, deployed.container)
        if current is None:
            raise EcsDeployFailed(f"ECS service {deployed.container} is gone from {cluster}")
        if current["taskDefinition"] != deployed.task_definition:
            raise EcsDeployFailed(
                f"{deployed.container} was deployed again meanwhile "
                f"({current['taskDefinition'].rsplit('/', 1)[-1]})"
            )
        primary = next((d for d in current["deployments"] if d["status"] == "PRIMARY"), None)
        if primary:
            state = primary.get("rolloutState", "IN_PROGRESS")
            running, desired = primary["runningCount"], primary["desiredCount"]
            if state == "FAILED":
                reason = primary.get("rolloutStateReason") or _latest_event(current)
                raise EcsDeployFailed(f"the ECS rollout failed: {reason}")
            if state == "COMPLETED" and running >= desired:
                return
            state = f"{state}, {running} of {desired} tasks running"
        heartbeat(f"waiting for {deployed.container}: {state}")
        time.sleep(2)
    raise EcsDeployFailed(
        f"{deployed.container} did not finish rolling out in {timeout / 60:.0f} min ({state}); "
        "its events in the ECS console say why"
    )


def _active_service(ecs, cluster: str, name: str) -> dict | None:
    found = ecs.describe_services(cluster=cluster, services=[name])["services"]
    return next((s for s in found if s["status"] == "ACTIVE"), None)


def _image_of(ecs, task_definition: str) -> str | None:
    described = ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
    containers = described["containerDefinitions"]
    return containers[0]["image"] if containers else None


def _latest_event(service: dict) -> str:
    events = service.get("events") or []
    return events[0]["message"] if events else "no reason given"


def _register_task_definition(
    ecs, settings: Settings, service: str, environment: str, image: str, publishes_events: bool
) -> str:
    secret_arn, keys = _service_secret(settings, service, environment)
    plain = [{"name": "ENVIRONMENT", "value": environment}]
    if publishes_events:
        plain += [
            {"name": "EVENTS_QUEUE_URL", "value": _events_queue(settings, service, environment)},
            {"name": "AWS_REGION", "value": settings.aws_region},
        ]
    log_group = f"/shipmate/{service}"
    _ensure_log_group(settings, log_group)
    container = {
        "name": service,
        "image": image,
        "essential": True,
        "portMappings": [{"containerPort": PORT, "protocol": "tcp"}],
        "environment": plain,
        "secrets": [{"name": key, "valueFrom": f"{secret_arn}:{key}::"} for key in keys],
        "healthCheck": {
            "command": ["CMD-SHELL", HEALTH_COMMAND],
            "interval": 10,
            "timeout": 3,
            "retries": 3,
            "startPeriod": 15,
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
    request = {
        "family": ecs_service_name(service, environment),
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": settings.ecs_cpu,
        "memory": settings.ecs_memory,
        "containerDefinitions": [container],
        "tags": [{"key": "shipmate.service", "value": service}],
    }
    if settings.ecs_execution_role_arn:
        request["executionRoleArn"] = settings.ecs_execution_role_arn
    if settings.ecs_task_role_arn:
        request["taskRoleArn"] = settings.ecs_task_role_arn
    described = ecs.register_task_definition(**request)
    return described["taskDefinition"]["taskDefinitionArn"]


def _service_secret(settings: Settings, service: str, environment: str) -> tuple[str, list[str]]:
    """The service's secret in Secrets Manager, made once; its ARN and the keys it holds.

    Keys an operator adds in AWS (a DATABASE_URL, say) reach the task on the next deploy.
    """
    manager = aws_client(settings, "secretsmanager")
    name = f"shipmate/{service}/{environment}"
    try:
        return _arn_and_keys(manager.get_secret_value(SecretId=name))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    values = new_service_secrets()
    try:
        made = manager.create_secret(Name=name, SecretString=json.dumps(values))
    except ClientError as race:  # another attempt made it first: use what it stored
        if race.response["Error"]["Code"] != "ResourceExistsException":
            raise
        return _arn_and_keys(manager.get_secret_value(SecretId=name))
    return made["ARN"], sorted(values)


def _arn_and_keys(stored: dict) -> tuple[str, list[str]]:
    return stored["ARN"], sorted(json.loads(stored["SecretString"]))


def _events_queue(settings: Settings, service: str, environment: str) -> str:
    """The queue the service publishes its changes to; creating it again returns it."""
    sqs = aws_client(settings, "sqs")
    name = f"shipmate-{service}-{environment}-events"
    return sqs.create_queue(QueueName=name, tags={"shipmate.service": service})["QueueUrl"]


def _ensure_log_group(settings: Settings, log_group: str) -> None:
    logs = aws_client(settings, "logs")
    try:
        logs.create_log_group(logGroupName=log_group)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise


def _network(settings: Settings) -> dict:
    """Subnets and security groups from the settings, or else the default VPC's ones, as
    the AWS console picks them."""
    ec2 = aws_client(settings, "ec2")
    subnets = settings.ecs_subnets
    if not subnets:
        found = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
        subnets = [s["SubnetId"] for s in found["Subnets"]]
    if not subnets:
        raise EcsDeployFailed(
            "no subnets to run the service in: set SHIPMATE_ECS_SUBNETS (this region has no "
            "default VPC)"
        )
    groups = settings.ecs_security_groups or _default_security_group(ec2, subnets[0])
    return {
        "subnets": subnets,
        "securityGroups": groups,
        "assignPublicIp": "ENABLED" if settings.ecs_assign_public_ip else "DISABLED",
    }


def _default_security_group(ec2, subnet: str) -> list[str]:
    """The `default` group of the subnet's VPC; none if the subnet is unknown (AWS says so)."""
    try:
        (found,) = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"]
    except ClientError:
        return []
    groups = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [found["VpcId"]]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    return [g["GroupId"] for g in groups]


class AwsEcs:
    """The `aws-ecs` target: a Fargate service per service and environment."""

    def deploy(
        self, settings: Settings, request: DeployInput, heartbeat: Heartbeat
    ) -> DeployResult:
        return deploy_to_ecs(
            settings,
            request.service,
            request.environment,
            request.pushed_image or request.image,
            publishes_events=request.publishes_events,
        )

    def verify(self, settings: Settings, deployed: DeployResult, heartbeat: Heartbeat) -> None:
        wait_until_rolled_out(settings, deployed, heartbeat)

    def describe_teardown(self, settings: Settings, request: TeardownInput) -> str:
        from activities.deploy_targets.ecs_teardown import describe_ecs_teardown

        return describe_ecs_teardown(settings, request)

    def tear_down(self, settings: Settings, request: TeardownInput) -> str:
        from activities.deploy_targets.ecs_teardown import tear_down_ecs

        return tear_down_ecs(settings, request)
