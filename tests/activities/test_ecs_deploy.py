"""Deploying to AWS ECS, against moto in server mode.

What an operator would check in the AWS console: one Fargate service per environment
running the pushed image behind the environment's load balancer, an RDS database made
once with its password in Secrets Manager, secrets referenced and never written into the
task definition, nothing new made by a repeated deploy. moto runs no containers, so a
live health call is stood in for by what ECS reports: the service's deployment COMPLETED
with its tasks running, and the target group health-checking /ready.
"""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.stages import DeliveryActivities
from shipmate import delivery_client
from shipmate.settings import EnvironmentSetting
from tests.cli.test_cli_deliveries import letters, shipmate
from tests.workflows.test_workflows import gate_open, start, until
from workflows.models import DeliveryState
from workflows.spec import Database, DeployTarget
from workflows.stage_models import DeployInput

# What the workflow sends once the gate was approved: the worker checks it against its
# own rules (activities/deploy_guard.py) before it deploys.
APPROVED = {"requester": "U0ALICE", "approved_by": ["U0BOB"]}


def aws(settings, name: str):
    return boto3.client(
        name, region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url
    )


def deploy(
    settings,
    service: str,
    image: str,
    environment: str = "staging",
    events=False,
    database=Database.postgresql,
    **more,
):
    """The worker's deploy stage, approved; an environment other than staging and prod
    (which these tests use to get a cluster of their own) is configured first."""
    if environment not in (e.name for e in settings.environments):
        extra = EnvironmentSetting(name=environment)
        settings = settings.model_copy(update={"environments": [*settings.environments, extra]})
    stages = DeliveryActivities(settings)
    request = DeployInput(
        service=service,
        environment=environment,
        image=image.rsplit("/", 1)[-1],
        target=DeployTarget.aws_ecs,
        pushed_image=image,
        publishes_events=events,
        database=database,
        **{**APPROVED, **more},
    )
    return ActivityEnvironment().run(stages.deploy_service, request)


def verify(settings, deployed) -> None:
    ActivityEnvironment().run(DeliveryActivities(settings).verify_service, deployed)


def ecs_name(settings, service: str, environment: str = "staging") -> str:
    return f"shipmate-{settings.installation}-{service}-{environment}"


def task_definition(settings, arn: str) -> dict:
    return aws(settings, "ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]


def container_of(settings, deployed) -> dict:
    return task_definition(settings, deployed.task_definition)["containerDefinitions"][0]


def ecs_service(settings, service: str, environment: str = "staging") -> dict:
    (found,) = aws(settings, "ecs").describe_services(
        cluster=f"shipmate-{environment}", services=[ecs_name(settings, service, environment)]
    )["services"]
    return found


def rds_instance(settings, service: str, environment: str = "staging") -> dict:
    rds = aws(settings, "rds")
    identifier = ecs_name(settings, service, environment)
    (found,) = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    return found


def test_a_deploy_runs_the_pushed_image_behind_the_load_balancer(settings):
    service = f"orders-{uuid.uuid4().hex[:6]}"
    image = f"{settings.registry}/{service}:v1-abc"
    deployed = deploy(settings, service, image)
    verify(settings, deployed)

    running = ecs_service(settings, service)
    assert running["status"] == "ACTIVE" and running["launchType"] == "FARGATE"
    assert running["desiredCount"] == 1
    assert running["taskDefinition"] == deployed.task_definition
    (attached,) = running["loadBalancers"]
    elb = aws(settings, "elbv2")
    (group,) = elb.describe_target_groups(TargetGroupArns=[attached["targetGroupArn"]])[
        "TargetGroups"
    ]
    assert group["HealthCheckPath"] == "/ready" and group["TargetType"] == "ip"
    assert attached["containerPort"] == 8000
    (balancer,) = elb.describe_load_balancers(LoadBalancerArns=group["LoadBalancerArns"])[
        "LoadBalancers"
    ]
    listeners = elb.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
    (ours,) = [
        item
        for item in listeners
        if item["DefaultActions"][0].get("TargetGroupArn") == group["TargetGroupArn"]
    ]
    assert deployed.url == f"http://{balancer['DNSName']}:{ours['Port']}"

    container = container_of(settings, deployed)
    assert container["image"] == image
    assert {"name": "ENVIRONMENT", "value": "staging"} in container["environment"]
    assert container["logConfiguration"]["options"]["awslogs-group"] == (
        f"/shipmate/{settings.installation}/{service}/staging"
    )


def test_the_database_is_rds_made_once_with_its_password_in_secrets_manager(settings):
    service = f"ledger-{uuid.uuid4().hex[:6]}"
    first = deploy(settings, service, f"{settings.registry}/{service}:v1")
    instance = rds_instance(settings, service)
    assert instance["Engine"] == "postgres" and not instance["PubliclyAccessible"]
    master = instance["MasterUserSecret"]["SecretArn"]
    stored = json.loads(
        aws(settings, "secretsmanager").get_secret_value(SecretId=master)["SecretString"]
    )
    written = json.dumps(task_definition(settings, first.task_definition))
    assert stored["password"] not in written  # only a reference to the secret is

    container = container_of(settings, first)
    plain = {e["name"]: e["value"] for e in container["environment"]}
    assert plain["DATABASE_HOST"] == instance["Endpoint"]["Address"]
    assert plain["DATABASE_PORT"] == str(instance["Endpoint"]["Port"])
    assert plain["DATABASE_NAME"] == instance["DBName"]
    assert plain["DATABASE_SCHEME"] == "postgresql"
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert secrets["DATABASE_USER"] == f"{master}:username::"
    assert secrets["DATABASE_PASSWORD"] == f"{master}:password::"

    second = deploy(settings, service, f"{settings.registry}/{service}:v2")
    assert rds_instance(settings, service)["DbiResourceId"] == instance["DbiResourceId"]
    assert container_of(settings, second)["environment"] == container["environment"]


def test_a_mysql_spec_gets_mysql_and_a_sqlite_one_is_refused_on_ecs(settings):
    service = f"shop-{uuid.uuid4().hex[:6]}"
    deployed = deploy(settings, service, f"{settings.registry}/{service}:v1", database="mysql")
    assert rds_instance(settings, service)["Engine"] == "mysql"
    plain = {e["name"]: e["value"] for e in container_of(settings, deployed)["environment"]}
    assert plain["DATABASE_SCHEME"] == "mysql"

    lonely = f"notes-{uuid.uuid4().hex[:6]}"
    with pytest.raises(ApplicationError) as raised:
        deploy(settings, lonely, f"{settings.registry}/{lonely}:v1", database="sqlite")
    assert raised.value.non_retryable
    assert "ask for PostgreSQL or MySQL on ECS" in str(raised.value)
    assert not aws(settings, "ecs").describe_services(
        cluster="shipmate-staging", services=[ecs_name(settings, lonely)]
    )["services"]


def test_secrets_are_referenced_never_written_into_the_task_definition(settings):
    service = f"vault-{uuid.uuid4().hex[:6]}"
    deployed = deploy(settings, service, f"{settings.registry}/{service}:v1-abc")
    stored = aws(settings, "secretsmanager").get_secret_value(
        SecretId=f"shipmate/{settings.installation}/{service}/staging"
    )
    values = json.loads(stored["SecretString"])
    assert len(values["JWT_SECRET"]) >= 32
    written = json.dumps(task_definition(settings, deployed.task_definition))
    assert values["JWT_SECRET"] not in written
    assert values["FIRST_ADMIN_PASSWORD"] not in written
    own = [s for s in container_of(settings, deployed)["secrets"] if "DATABASE" not in s["name"]]
    assert sorted(s["name"] for s in own) == [
        "FIRST_ADMIN_PASSWORD",
        "FIRST_ADMIN_USERNAME",
        "JWT_SECRET",
    ]
    assert all(s["valueFrom"].startswith(stored["ARN"]) for s in own)


def test_a_service_that_publishes_changes_gets_its_queue(settings):
    service = f"ledger-{uuid.uuid4().hex[:6]}"
    deployed = deploy(settings, service, f"{settings.registry}/{service}:v1", events=True)
    plain = {e["name"]: e["value"] for e in container_of(settings, deployed)["environment"]}
    queue = aws(settings, "sqs").get_queue_url(QueueName=f"{ecs_name(settings, service)}-events")
    assert plain["EVENTS_QUEUE_URL"] == queue["QueueUrl"]
    assert plain["AWS_REGION"] == settings.aws_region
    quiet = deploy(settings, f"quiet-{uuid.uuid4().hex[:6]}", f"{settings.registry}/quiet:v1")
    assert "EVENTS_QUEUE_URL" not in {
        e["name"] for e in container_of(settings, quiet)["environment"]
    }


def test_a_service_sends_its_traces_where_the_installation_says_under_its_names(settings):
    traced = settings.model_copy(update={"services_otlp_endpoint": "http://otel.internal:4318"})
    service = f"ledger-{uuid.uuid4().hex[:6]}"
    deployed = deploy(traced, service, f"{settings.registry}/{service}:v1")
    plain = {e["name"]: e["value"] for e in container_of(traced, deployed)["environment"]}
    assert plain["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel.internal:4318"
    assert plain["OTEL_SERVICE_NAME"] == service
    assert plain["OTEL_RESOURCE_ATTRIBUTES"] == "deployment.environment=staging"
    quiet = deploy(settings, f"quiet-{uuid.uuid4().hex[:6]}", f"{settings.registry}/quiet:v1")
    unset = [e["name"] for e in container_of(settings, quiet)["environment"]]
    assert unset and not [name for name in unset if name.startswith("OTEL_")]


def counts(settings) -> dict:
    elb = aws(settings, "elbv2")
    return {
        "databases": len(aws(settings, "rds").describe_db_instances()["DBInstances"]),
        "target groups": len(elb.describe_target_groups()["TargetGroups"]),
        "balancers": len(elb.describe_load_balancers()["LoadBalancers"]),
        "secrets": len(aws(settings, "secretsmanager").list_secrets()["SecretList"]),
    }


def test_a_repeated_deploy_changes_nothing_and_a_new_version_keeps_the_address(settings):
    service = f"ledger-{uuid.uuid4().hex[:6]}"
    first = deploy(settings, service, f"{settings.registry}/{service}:v1-abc")
    made = counts(settings)
    again = deploy(settings, service, f"{settings.registry}/{service}:v1-abc")
    assert again == first
    assert counts(settings) == made
    ecs = aws(settings, "ecs")
    family = ecs_name(settings, service)
    assert len(ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]) == 1

    second = deploy(settings, service, f"{settings.registry}/{service}:v2-def")
    assert second.task_definition.endswith(f"{family}:2")
    assert second.url == first.url
    assert counts(settings) == made
    assert ecs_service(settings, service)["taskDefinition"] == second.task_definition
    verify(settings, second)


def test_each_environment_gets_its_own_cluster_and_load_balancer(settings):
    service = f"atlas-{uuid.uuid4().hex[:6]}"
    staging = deploy(settings, service, f"{settings.registry}/{service}:v1", environment="staging")
    prod = deploy(settings, service, f"{settings.registry}/{service}:v1", environment="prod")
    clusters = aws(settings, "ecs").list_clusters()["clusterArns"]
    assert any(arn.endswith("/shipmate-staging") for arn in clusters)
    assert any(arn.endswith("/shipmate-prod") for arn in clusters)
    assert staging.url.split(":")[1] != prod.url.split(":")[1]  # two balancers' hosts
    assert rds_instance(settings, service, "prod")["DBInstanceIdentifier"].endswith("-prod")


def test_aws_refusing_the_deploy_is_a_clear_error_not_a_retry(settings):
    broken = settings.model_copy(update={"ecs_subnets": ["subnet-does-not-exist"]})
    service = f"nowhere-{uuid.uuid4().hex[:6]}"
    with pytest.raises(ApplicationError) as raised:
        deploy(broken, service, f"{settings.registry}/{service}:v1")
    assert raised.value.non_retryable
    assert raised.value.type == "DeployRefused"
    assert "subnet-does-not-exist" in str(raised.value)


def test_a_target_that_is_not_built_says_so(settings):
    request = DeployInput(
        service="x-api",
        environment="staging",
        image="x:v1",
        target=DeployTarget.aws_lambda,
        **APPROVED,
    )
    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(DeliveryActivities(settings).deploy_service, request)
    assert raised.value.non_retryable
    assert "deploying to aws-lambda is not something I can do yet" in str(raised.value)


def running_image(settings, service: str) -> str:
    """The image the environment's ECS service runs, as the console shows it."""
    found = ecs_service(settings, service)
    assert found["status"] == "ACTIVE", found
    return task_definition(settings, found["taskDefinition"])["containerDefinitions"][0]["image"]


async def test_a_delivery_asked_for_on_ecs_is_deployed_there(client, ecs_worker):
    handle, spec = await start(client, ecs_worker, "build a parcels api, deploy on ECS")
    assert spec.deploy.target == DeployTarget.aws_ecs
    await until(handle, gate_open("staging"))
    await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
    status = await handle.result()
    assert status.state == DeliveryState.succeeded, status.error
    (deployment,) = status.deployments
    assert deployment.url.startswith("http://") and ".elb.amazonaws.com:" in deployment.url
    assert running_image(ecs_worker, spec.name) == f"registry.local/{spec.name}:v1"


async def test_deliver_with_target_aws_ecs_ends_with_the_service_address(ecs_worker):
    name = f"crate{letters()}"
    code, out, err = await shipmate(
        ecs_worker,
        "deliver",
        f"build a {name} api",
        "--target",
        "aws-ecs",
        "--approve-as",
        "U0BOB",
        SHIPMATE_OPERATOR="U0BOB",  # the operator may approve their own staging deploy
    )
    assert code == 0, err
    address = ecs_service(ecs_worker, f"{name}-api")["loadBalancers"][0]
    assert address["containerName"] == f"{name}-api"
    last = out.strip().splitlines()[-1]
    assert last.startswith("staging: http://") and ".elb.amazonaws.com:" in last
    assert running_image(ecs_worker, f"{name}-api") == f"registry.local/{name}-api:v1"
