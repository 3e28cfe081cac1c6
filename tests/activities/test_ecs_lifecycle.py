"""Rolling back and tearing down on ECS, against moto in server mode.

moto runs no containers and no circuit breaker: the rollback a broken version gets is
checked on the service descriptions AWS documents for it (`rollout_verdict`), and the
database's downgrade task is checked by the command ECS was asked to run.
"""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from activities.deploy_targets.ecs import AwsEcs
from activities.deploy_targets.ecs_rollout import rollout_verdict
from tests.activities.test_ecs_deploy import (
    aws,
    deploy,
    ecs_name,
    ecs_service,
    running_image,
    verify,
)
from tests.workflows.test_undo_deliveries import ROLL_BACK, approve_and_finish, deliver, undo
from tests.workflows.test_workflows import unique
from workflows.spec import DeployTarget
from workflows.stage_models import TeardownInput


def tagged(settings, service: str) -> list[str]:
    """Every resource AWS still lists with the service's and installation's tags."""
    found = aws(settings, "resourcegroupstaggingapi").get_resources(
        TagFilters=[
            {"Key": "shipmate.installation", "Values": [settings.installation]},
            {"Key": "shipmate.service", "Values": [service]},
        ]
    )["ResourceTagMappingList"]
    arns = [item["ResourceARN"] for item in found]
    ecs = aws(settings, "ecs")
    alive = []
    for arn in arns:
        if ":service/" in arn:  # a deleted ECS service stays listed as INACTIVE for a while
            cluster, name = arn.split(":service/")[1].split("/")
            (described,) = ecs.describe_services(cluster=cluster, services=[name])["services"]
            if described["status"] == "INACTIVE":
                continue
        alive.append(arn)
    return alive


def test_a_rollback_puts_the_previous_revision_back_after_migrating_down(settings):
    service = f"orders-{uuid.uuid4().hex[:6]}"
    v1 = deploy(settings, service, f"{settings.registry}/{service}:v1", version=1)
    v2 = deploy(settings, service, f"{settings.registry}/{service}:v2", version=2)
    back = deploy(
        settings,
        service,
        f"{settings.registry}/{service}:v1",
        version=1,
        migrate_down_with=f"{settings.registry}/{service}:v2",
    )
    assert back.task_definition == v1.task_definition  # the revision itself, not a copy
    assert back.url == v1.url == v2.url
    assert ecs_service(settings, service)["taskDefinition"] == v1.task_definition
    ecs = aws(settings, "ecs")
    family = ecs_name(settings, service)
    assert len(ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]) == 2
    arns = ecs.list_tasks(cluster="shipmate-staging", startedBy="shipmate-rollback")["taskArns"]
    tasks = ecs.describe_tasks(cluster="shipmate-staging", tasks=arns)["tasks"]
    (downgrade,) = [t for t in tasks if t["taskDefinitionArn"] == v2.task_definition]
    (override,) = downgrade["overrides"]["containerOverrides"]
    assert override["command"] == ["alembic", "downgrade", "v0001"]
    verify(settings, back)


async def test_roll_back_in_the_thread_puts_the_previous_version_back_on_ecs(client, ecs_worker):
    text, spec = unique("build a parcels api with postgres, deploy on ECS")
    first = await deliver(client, ecs_worker, text, spec)
    second = await deliver(client, ecs_worker, "also add a weight field", spec)
    assert running_image(ecs_worker, spec.name) == f"registry.local/{spec.name}:v2"
    assert first.deployments[0].url == second.deployments[0].url

    ticket = await undo(client, ecs_worker, ROLL_BACK, spec.name)
    final = await approve_and_finish(client, ticket.delivery_id)

    assert final.state == "succeeded", final.error
    assert running_image(ecs_worker, spec.name) == f"registry.local/{spec.name}:v1"
    assert final.deployments[0].url == first.deployments[0].url


def test_tear_down_leaves_nothing_tagged_and_the_next_service_its_balancer(settings):
    service, neighbour = f"gone-{uuid.uuid4().hex[:6]}", f"stays-{uuid.uuid4().hex[:6]}"
    deploy(settings, service, f"{settings.registry}/{service}:v1", events=True)
    deploy(settings, service, f"{settings.registry}/{service}:v2", events=True)
    kept = deploy(settings, neighbour, f"{settings.registry}/{neighbour}:v1")
    assert tagged(settings, service)
    request = TeardownInput(service=service, environment="staging", target=DeployTarget.aws_ecs)
    plan = AwsEcs().describe_teardown(settings, request)
    assert f"the RDS database `{ecs_name(settings, service)}` and all its data" in plan

    removed = AwsEcs().tear_down(settings, request, heartbeat=print)

    assert f"database {ecs_name(settings, service)}" in removed
    assert "2 task definition revisions" in removed
    assert tagged(settings, service) == []
    with pytest.raises(ClientError):
        aws(settings, "secretsmanager").get_secret_value(
            SecretId=f"shipmate/{settings.installation}/{service}/staging"
        )
    assert ecs_service(settings, neighbour)["status"] == "ACTIVE"
    verify(settings, kept)  # the shared load balancer still serves the neighbour
    again = AwsEcs().tear_down(settings, request, heartbeat=print)  # a retried activity
    assert again == "nothing was left"


def test_the_last_service_of_an_environment_takes_its_load_balancer_with_it(settings):
    service = f"solo-{uuid.uuid4().hex[:6]}"
    deploy(settings, service, f"{settings.registry}/{service}:v1", environment="qa")
    elb = aws(settings, "elbv2")
    balancer = f"shipmate-{settings.installation}-alb-qa"
    assert elb.describe_load_balancers(Names=[balancer])["LoadBalancers"]
    request = TeardownInput(service=service, environment="qa", target=DeployTarget.aws_ecs)
    AwsEcs().tear_down(settings, request, heartbeat=print)
    with pytest.raises(ClientError, match="LoadBalancerNotFound"):
        elb.describe_load_balancers(Names=[balancer])


def test_two_installations_sharing_an_account_never_touch_each_others(settings):
    service = f"shared-{uuid.uuid4().hex[:6]}"
    ours = settings.model_copy(update={"installation": f"{settings.installation}a"})
    theirs = settings.model_copy(update={"installation": f"{settings.installation}b"})
    mine = deploy(ours, service, f"{settings.registry}/{service}:v1")
    other = deploy(theirs, service, f"{settings.registry}/{service}:v1")
    assert mine.container != other.container and mine.url != other.url
    request = TeardownInput(service=service, environment="staging", target=DeployTarget.aws_ecs)
    AwsEcs().tear_down(ours, request, heartbeat=print)
    assert tagged(ours, service) == []
    assert ecs_service(theirs, service)["status"] == "ACTIVE"
    verify(theirs, other)


def described(serving: str, *deployments: dict, events=("(service x) has started 1 tasks",)):
    return {
        "serviceName": "shipmate-x-orders-prod",
        "taskDefinition": f"arn:aws:ecs:us-east-1:1:task-definition/{serving}",
        "deployments": list(deployments),
        "events": [{"message": message} for message in events],
    }


def deployment(revision: str, status: str, rollout: str, running=1, reason=None) -> dict:
    found = {
        "taskDefinition": f"arn:aws:ecs:us-east-1:1:task-definition/{revision}",
        "status": status,
        "rolloutState": rollout,
        "runningCount": running,
        "desiredCount": 1,
    }
    if reason:
        found["rolloutStateReason"] = reason
    return found


NEW = "arn:aws:ecs:us-east-1:1:task-definition/orders:3"
BREAKER = "ECS deployment circuit breaker: tasks failed to start."
ROLLING_BACK = "(service x) rolling back to deployment ecs-svc/123."


@pytest.mark.parametrize(
    ("service", "verdict"),
    [
        # the circuit breaker failed ours and made the previous revision primary again
        (
            described(
                "orders:2",
                deployment("orders:2", "PRIMARY", "IN_PROGRESS", running=0),
                deployment("orders:3", "ACTIVE", "FAILED", running=0, reason=BREAKER),
            ),
            ("rolled back", BREAKER),
        ),
        # the rollback finished before we looked: ours is drained, its events remain
        (
            described(
                "orders:2",
                deployment("orders:2", "PRIMARY", "COMPLETED"),
                events=("(service x) has reached a steady state.", ROLLING_BACK),
            ),
            ("rolled back", ROLLING_BACK),
        ),
        # someone deployed another revision meanwhile: not a rollback of ours
        (
            described("orders:4", deployment("orders:4", "PRIMARY", "IN_PROGRESS")),
            ("replaced", "shipmate-x-orders-prod was deployed again meanwhile (orders:4)"),
        ),
        # no rollback configured: ours failed and stays
        (
            described("orders:3", deployment("orders:3", "PRIMARY", "FAILED", 0, BREAKER)),
            ("failed", BREAKER),
        ),
        (
            described(
                "orders:3",
                deployment("orders:3", "PRIMARY", "IN_PROGRESS", running=0),
                deployment("orders:2", "ACTIVE", "COMPLETED"),
            ),
            ("waiting", "IN_PROGRESS, 0 of 1 tasks running"),
        ),
        (described("orders:3", deployment("orders:3", "PRIMARY", "COMPLETED")), ("done", "")),
    ],
)
def test_what_ecs_reports_decides_the_rollout(service, verdict):
    assert rollout_verdict(service, NEW) == verdict
