"""The worker's IAM policy in deploy/ allows every AWS call a service's life makes.

An operator attaches deploy/iam-worker-policy.json, filled in for the installation
(`python -m activities.iam_policy`), to the worker's role; a call it does not allow
fails on real AWS only, halfway through a deploy or a tear-down. Here every call the
worker makes against moto while signing in to ECR, deploying, rolling back and tearing
down is recorded with its parameters and looked up in the filled-in policy as IAM
would: action, resource ARN and conditions (tests/activities/iam_evaluation.py).
"""

from __future__ import annotations

import uuid

import boto3

from activities import registry_login
from activities.deploy_targets.ecs import AwsEcs
from activities.iam_policy import worker_policy
from tests.activities.iam_evaluation import ACCOUNT, Requests, allowed
from tests.activities.test_ecs_deploy import deploy, verify
from workflows.spec import DeployTarget
from workflows.stage_models import TeardownInput

ECR = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"


def with_task_roles(settings):
    """The settings of a real deployment: both roles a task definition names."""
    role = f"arn:aws:iam::{ACCOUNT}:role/shipmate-{settings.installation}"
    return settings.model_copy(
        update={"ecs_execution_role_arn": f"{role}-execution", "ecs_task_role_arn": f"{role}-task"}
    )


def test_every_call_of_a_service_life_on_ecs_is_allowed_by_the_policy(settings):
    settings = with_task_roles(settings)
    boto3.setup_default_session()
    calls: list[tuple[str, str, dict]] = []

    def record(model, params, **_):
        calls.append((model.service_model.signing_name, model.name, dict(params)))

    boto3.DEFAULT_SESSION.events.register("before-parameter-build.*.*", record)
    try:
        service = f"audited-{uuid.uuid4().hex[:6]}"
        on_ecr = settings.model_copy(update={"registry": ECR})
        registry_login.push_credentials(on_ecr, service, settings.installation)
        registry_login.push_credentials(on_ecr, service, settings.installation)  # checked
        image = f"{settings.registry}/{service}"
        deploy(settings, service, f"{image}:v1", version=1, events=True)
        second = deploy(settings, service, f"{image}:v2", version=2, events=True)
        verify(settings, second)
        deploy(settings, service, f"{image}:v1", version=1, events=True, migrate_down_with="v2")
        request = TeardownInput(service=service, environment="staging", target=DeployTarget.aws_ecs)
        AwsEcs().tear_down(settings, request, heartbeat=print)
    finally:
        boto3.DEFAULT_SESSION.events.unregister("before-parameter-build.*.*", record)

    made = {f"{service}:{operation}" for service, operation, _ in calls}
    assert {"rds:CreateDBInstance", "elasticloadbalancing:CreateListener", "ecs:RunTask"} <= made
    assert {"ecr:CreateRepository", "ecr:ListTagsForResource"} <= made
    policy = worker_policy(settings)
    requests = Requests(settings.aws_region)
    checked = [r for call in calls for r in requests(*call)]
    assert {action for action, _, _ in checked} >= {"iam:PassRole", "ecs:TagResource"}
    refused = sorted({(a, r, repr(c)) for a, r, c in checked if not allowed(policy, a, r, c)})
    assert refused == []
