"""Deploying to AWS ECS, against moto in server mode.

What an operator would check in the AWS console: the cluster, one Fargate service per
environment running the pushed image, secrets referenced from Secrets Manager and not
written into the task definition, no new revision for a repeated deploy. A delivery
asked to run "on ECS" ends with the service's console link and its deployment recorded.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.exceptions import ClientError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities.deploy_targets.ecs import AwsEcs
from activities.stages import DeliveryActivities
from shipmate import deliveries
from tests.fake_stages import Script
from tests.test_cli_deliveries import letters, shipmate
from tests.test_workflows import gate_open, start, until
from workflows.delivery import DeliveryWorkflow
from workflows.models import DeliveryState, DeployInput, TeardownInput
from workflows.service import ServiceWorkflow
from workflows.spec import DeployTarget


def aws(settings, name: str):
    return boto3.client(
        name, region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url
    )


def deploy(settings, service: str, image: str, environment: str = "staging", events=False):
    stages = DeliveryActivities(settings)
    request = DeployInput(
        service=service,
        environment=environment,
        image=image.rsplit("/", 1)[-1],
        target=DeployTarget.aws_ecs,
        pushed_image=image,
        publishes_events=events,
    )
    return ActivityEnvironment().run(stages.deploy_service, request)


def verify(settings, deployed) -> None:
    ActivityEnvironment().run(DeliveryActivities(settings).verify_service, deployed)


def task_definition(settings, arn: str) -> dict:
    return aws(settings, "ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]


def test_a_deploy_runs_the_pushed_image_as_a_fargate_service(settings):
    service = f"orders-{uuid.uuid4().hex[:6]}"
    image = f"{settings.registry}/{service}:v1-abc"
    deployed = deploy(settings, service, image)
    verify(settings, deployed)

    ecs = aws(settings, "ecs")
    found = ecs.describe_services(cluster="shipmate-staging", services=[f"{service}-staging"])
    (running,) = found["services"]
    assert running["status"] == "ACTIVE"
    assert running["launchType"] == "FARGATE"
    assert running["desiredCount"] == 1
    assert running["taskDefinition"] == deployed.task_definition
    assert deployed.url.startswith("https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/")
    assert f"/services/{service}-staging/" in deployed.url

    container = task_definition(settings, deployed.task_definition)["containerDefinitions"][0]
    assert container["image"] == image
    assert container["portMappings"][0]["containerPort"] == 8000
    assert {"name": "ENVIRONMENT", "value": "staging"} in container["environment"]
    assert sorted(s["name"] for s in container["secrets"]) == [
        "FIRST_ADMIN_PASSWORD",
        "FIRST_ADMIN_USERNAME",
        "JWT_SECRET",
    ]


def test_tear_down_removes_the_service_its_revisions_secret_and_queue(settings):
    service = f"gone-{uuid.uuid4().hex[:6]}"
    deploy(settings, service, f"{settings.registry}/{service}:v1-abc", events=True)
    deploy(settings, service, f"{settings.registry}/{service}:v2-abc", events=True)
    request = TeardownInput(service=service, environment="staging", target="aws-ecs")
    assert f"the secret `shipmate/{service}/staging`" in AwsEcs().describe_teardown(
        settings, request
    )

    removed = AwsEcs().tear_down(settings, request)

    assert f"ECS service {service}-staging" in removed and "2 task definition" in removed
    found = aws(settings, "ecs").describe_services(
        cluster="shipmate-staging", services=[f"{service}-staging"]
    )["services"]
    assert all(s["status"] != "ACTIVE" for s in found)
    active = aws(settings, "ecs").list_task_definitions(familyPrefix=f"{service}-staging")
    assert active["taskDefinitionArns"] == []
    with pytest.raises(ClientError):
        aws(settings, "secretsmanager").get_secret_value(SecretId=f"shipmate/{service}/staging")
    again = AwsEcs().tear_down(settings, request)  # a retried activity is harmless
    assert "ECS service" not in again and "task definition" not in again


def test_secrets_are_referenced_never_written_into_the_task_definition(settings):
    service = f"vault-{uuid.uuid4().hex[:6]}"
    deployed = deploy(settings, service, f"{settings.registry}/{service}:v1-abc")
    stored = aws(settings, "secretsmanager").get_secret_value(
        SecretId=f"shipmate/{service}/staging"
    )
    values = json.loads(stored["SecretString"])
    assert len(values["JWT_SECRET"]) >= 32
    written = json.dumps(task_definition(settings, deployed.task_definition))
    assert values["JWT_SECRET"] not in written
    assert values["FIRST_ADMIN_PASSWORD"] not in written
    container = task_definition(settings, deployed.task_definition)["containerDefinitions"][0]
    assert all(s["valueFrom"].startswith(stored["ARN"]) for s in container["secrets"])


def test_a_service_that_publishes_changes_gets_its_queue(settings):
    service = f"ledger-{uuid.uuid4().hex[:6]}"
    deployed = deploy(settings, service, f"{settings.registry}/{service}:v1", events=True)
    container = task_definition(settings, deployed.task_definition)["containerDefinitions"][0]
    plain = {e["name"]: e["value"] for e in container["environment"]}
    queue = aws(settings, "sqs").get_queue_url(QueueName=f"shipmate-{service}-staging-events")
    assert plain["EVENTS_QUEUE_URL"] == queue["QueueUrl"]
    assert plain["AWS_REGION"] == settings.aws_region
    quiet = deploy(settings, f"quiet-{uuid.uuid4().hex[:6]}", f"{settings.registry}/quiet:v1")
    container = task_definition(settings, quiet.task_definition)["containerDefinitions"][0]
    assert "EVENTS_QUEUE_URL" not in {e["name"] for e in container["environment"]}


def test_a_repeated_deploy_changes_nothing_and_a_new_image_rolls_out(settings):
    service = f"ledger-{uuid.uuid4().hex[:6]}"
    first = deploy(settings, service, f"{settings.registry}/{service}:v1-abc")
    again = deploy(settings, service, f"{settings.registry}/{service}:v1-abc")
    assert again.task_definition == first.task_definition
    ecs = aws(settings, "ecs")
    family = f"{service}-staging"
    assert len(ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]) == 1

    second = deploy(settings, service, f"{settings.registry}/{service}:v2-def")
    assert second.task_definition.endswith(f"{family}:2")
    (running,) = ecs.describe_services(cluster="shipmate-staging", services=[family])["services"]
    assert running["taskDefinition"] == second.task_definition
    verify(settings, second)


def test_each_environment_gets_its_own_cluster(settings):
    service = f"atlas-{uuid.uuid4().hex[:6]}"
    deploy(settings, service, f"{settings.registry}/{service}:v1", environment="staging")
    deploy(settings, service, f"{settings.registry}/{service}:v1", environment="prod")
    clusters = aws(settings, "ecs").list_clusters()["clusterArns"]
    assert any(arn.endswith("/shipmate-staging") for arn in clusters)
    assert any(arn.endswith("/shipmate-prod") for arn in clusters)


def test_aws_refusing_the_deploy_is_a_clear_error_not_a_retry(settings):
    broken = settings.model_copy(update={"ecs_subnets": ["subnet-does-not-exist"]})
    service = f"nowhere-{uuid.uuid4().hex[:6]}"
    with pytest.raises(ApplicationError) as raised:
        deploy(broken, service, f"{settings.registry}/{service}:v1")
    assert raised.value.non_retryable
    assert raised.value.type == "DeployRefused"
    assert "AWS refused the deploy (InvalidParameterException)" in str(raised.value)
    assert "subnet-does-not-exist" in str(raised.value)


def test_a_target_that_is_not_built_says_so(settings):
    request = DeployInput(
        service="x-api", environment="staging", image="x:v1", target=DeployTarget.aws_lambda
    )
    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(DeliveryActivities(settings).deploy_service, request)
    assert raised.value.non_retryable
    assert "deploying to aws-lambda is not something I can do yet" in str(raised.value)


@pytest.fixture()
async def ecs_worker(client, settings):
    """Scripted stages up to the push; the real ECS deploy and verify against moto."""
    local = settings.model_copy(
        update={"task_queue": f"ecs-{uuid.uuid4().hex[:8]}", "approvers": ["U0BOB", "U0DAVE"]}
    )
    real = DeliveryActivities(local)
    scripted = [
        a
        for a in Script().activities()
        if a.__temporal_activity_definition.name not in ("deploy_service", "verify_service")
    ]
    with ThreadPoolExecutor(max_workers=4) as executor:
        worker = Worker(
            client,
            task_queue=local.task_queue,
            workflows=[ServiceWorkflow, DeliveryWorkflow],
            activities=[*scripted, real.deploy_service, real.verify_service],
            activity_executor=executor,
        )
        async with worker:
            yield local


def running_image(settings, service_name: str) -> str:
    """The image the environment's ECS service runs, as the console shows it."""
    found = aws(settings, "ecs").describe_services(
        cluster="shipmate-staging", services=[service_name]
    )["services"]
    assert found and found[0]["status"] == "ACTIVE", found
    return task_definition(settings, found[0]["taskDefinition"])["containerDefinitions"][0]["image"]


async def test_a_delivery_asked_for_on_ecs_is_deployed_there(client, ecs_worker):
    handle, spec = await start(client, ecs_worker, "build a parcels api, deploy on ECS")
    assert spec.deploy.target == DeployTarget.aws_ecs
    await until(handle, gate_open("staging"))
    await deliveries.decide(client, handle.id, "U0BOB", "staging", approve=True)
    status = await handle.result()
    assert status.state == DeliveryState.succeeded, status.error
    (deployment,) = status.deployments
    assert deployment.url.startswith("https://us-east-1.console.aws.amazon.com/ecs/")
    assert running_image(ecs_worker, f"{spec.name}-staging") == f"registry.local/{spec.name}:v1"


async def test_deliver_with_target_aws_ecs_ends_with_the_console_link(ecs_worker):
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
    console = (
        "https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/shipmate-staging"
        f"/services/{name}-api-staging/health?region=us-east-1"
    )
    assert out.strip().endswith(f"staging: {console}")
    assert running_image(ecs_worker, f"{name}-api-staging") == f"registry.local/{name}-api:v1"
