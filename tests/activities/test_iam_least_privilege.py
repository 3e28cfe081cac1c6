"""The worker's IAM policy reaches only its own installation's things.

Filled in for an installation (activities/iam_policy.py), every statement names that
installation's resources: ARNs that start with its prefix (`shipmate-<installation>-`,
`shipmate/<installation>/`, `shipmate-<installation>/` for ECR), or a condition that
pins the `shipmate.installation` tag. The only exceptions are the short lists below,
each with the reason AWS (or the design) leaves no narrower scope; a new `*` fails here
until it is justified in ALLOWED_STAR and in the README. PassRole names exactly the
configured roles, for ECS tasks only. And a resource of another installation (another
prefix) cannot be deleted or changed.
"""

from __future__ import annotations

import json
import re

import pytest

from activities.iam_policy import TEMPLATE, worker_policy
from tests.activities.iam_evaluation import ACCOUNT, allowed

# Actions AWS gives no resource-level permission: their statements must say "*".
ALLOWED_STAR = {
    "ecr:GetAuthorizationToken": "a registry sign-in token is for the whole registry",
    "ec2:DescribeSubnets": "EC2 Describe* calls have no resource-level permissions",
    "ec2:DescribeSecurityGroups": "EC2 Describe* calls have no resource-level permissions",
    "ec2:DescribeVpcs": "EC2 Describe* calls have no resource-level permissions",
    "ec2:DescribeAccountAttributes": "EC2 Describe* calls have no resource-level permissions",
    "ec2:DescribeInternetGateways": "EC2 Describe* calls have no resource-level permissions",
    "ec2:DescribeAvailabilityZones": "EC2 Describe* calls have no resource-level permissions",
    "elasticloadbalancing:DescribeLoadBalancers": "ELB Describe* have no resource scope",
    "elasticloadbalancing:DescribeTargetGroups": "ELB Describe* have no resource scope",
    "elasticloadbalancing:DescribeListeners": "ELB Describe* have no resource scope",
    "elasticloadbalancing:DescribeTags": "ELB Describe* have no resource scope",
    "ecs:DescribeTaskDefinition": "task definition reads have no resource scope",
    "ecs:ListTaskDefinitions": "listing has no resource scope",
    "ecs:DeregisterTaskDefinition": "no resource scope; a running service keeps its revision",
}

# Scoped, but not to the installation: names the design shares or AWS chooses.
ALLOWED_SHARED = {
    "ecs:CreateCluster": "one cluster per environment (SHIPMATE_ECS_CLUSTER), shared by "
    "installations; creating an existing cluster returns it unchanged",
    "ecs:DescribeTasks": "task ARNs carry only the cluster and a random id",
    "rds:CreateDBInstance": "AWS's default parameter and option groups of a new instance",
    "secretsmanager:CreateSecret": "the RDS-managed password (`rds!db-…`, named by RDS)",
    "secretsmanager:TagResource": "the RDS-managed password (`rds!db-…`, named by RDS)",
    "kms:DescribeKey": "the AWS-managed key of encrypted databases, through RDS only",
    "iam:CreateServiceLinkedRole": "the three service-linked roles AWS names",
    "s3:GetObject": "the artifact bucket, shipmate-artifacts-*, named by the operator",
    "s3:PutObject": "the artifact bucket, shipmate-artifacts-*, named by the operator",
}


def _listed(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _scoped_to(installation: str, resource: str) -> bool:
    """A path segment of the ARN starts with the installation's prefix, literally: `*`
    may stand for the cluster or what follows the prefix, never for the prefix itself."""
    prefix = rf"shipmate-{installation}-|shipmate/{installation}/|shipmate-{installation}/"
    return re.search(rf"[:/]({prefix})", resource) is not None


def _pins_installation(statement: dict, installation: str) -> bool:
    for keys in statement.get("Condition", {}).values():
        for key, value in keys.items():
            tagged = key in (
                "aws:RequestTag/shipmate.installation",
                "aws:ResourceTag/shipmate.installation",
            )
            if tagged and _listed(value) == [installation]:
                return True
    return False


@pytest.fixture
def configured(settings):
    role = f"arn:aws:iam::{ACCOUNT}:role/shipmate-{settings.installation}"
    return settings.model_copy(
        update={"ecs_execution_role_arn": f"{role}-execution", "ecs_task_role_arn": f"{role}-task"}
    )


def test_every_statement_is_scoped_to_the_installation_or_a_listed_exception(configured):
    installation = configured.installation
    policy = worker_policy(configured)
    broad = []
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = _listed(statement["Action"])
        assert all("*" not in action for action in actions), statement["Sid"]
        if _pins_installation(statement, installation) or "iam:PassRole" in actions:
            continue
        for resource in _listed(statement["Resource"]):
            if _scoped_to(installation, resource):
                continue
            listed = ALLOWED_STAR if resource == "*" else ALLOWED_SHARED
            broad += [(statement["Sid"], a, resource) for a in actions if a not in listed]
    assert broad == []


def test_the_exceptions_are_few_and_each_is_used(configured):
    """The lists stay short: an entry the policy no longer needs goes."""
    policy = worker_policy(configured)
    used = {a for s in policy["Statement"] for a in _listed(s["Action"])}
    assert set(ALLOWED_STAR) <= used and set(ALLOWED_SHARED) <= used
    assert len(ALLOWED_STAR) <= 15


def test_pass_role_names_exactly_the_configured_roles_for_ecs_tasks(configured):
    policy = worker_policy(configured)
    (passing,) = [s for s in policy["Statement"] if "iam:PassRole" in _listed(s["Action"])]
    roles = {configured.ecs_execution_role_arn, configured.ecs_task_role_arn}
    assert set(_listed(passing["Resource"])) == roles
    assert all("*" not in arn and "?" not in arn for arn in roles)
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }
    passed = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    for arn in roles:
        assert allowed(policy, "iam:PassRole", arn, passed)
        assert not allowed(
            policy, "iam:PassRole", arn, {"iam:PassedToService": "ec2.amazonaws.com"}
        )
    other = f"arn:aws:iam::{ACCOUNT}:role/shipmate-{configured.installation}-admin"
    assert not allowed(policy, "iam:PassRole", other, passed)


def test_without_configured_roles_nothing_may_be_passed(settings):
    bare = settings.model_copy(update={"ecs_execution_role_arn": None, "ecs_task_role_arn": None})
    policy = worker_policy(bare)
    assert all("iam:PassRole" not in _listed(s["Action"]) for s in policy["Statement"])


def test_the_file_itself_reaches_nothing_until_it_is_filled_in():
    """Attached as it is, its placeholders match no installation's resource."""
    text = TEMPLATE.read_text()
    assert "<installation>" in text and "<execution-role-arn>" in text
    assert '"iam:PassRole"' in text and "role/shipmate-*" not in text
    policy = json.loads(text)
    arn = f"arn:aws:rds:us-east-1:{ACCOUNT}:db:shipmate-prod1-orders-production"
    assert not allowed(policy, "rds:DeleteDBInstance", arn)


def _another_installations(region: str, other: str) -> list[tuple[str, str, dict]]:
    """Delete and update calls on what installation `other` made, as IAM sees them."""

    def arn(service: str, rest: str) -> str:
        return f"arn:aws:{service}:{region}:{ACCOUNT}:{rest}"

    elb = "elasticloadbalancing"
    balancer = arn(elb, f"loadbalancer/app/shipmate-{other}-alb-production/50dc6c495c0c9188")
    cluster = {"ecs:cluster": arn("ecs", "cluster/shipmate-production")}
    return [
        ("rds:DeleteDBInstance", arn("rds", f"db:shipmate-{other}-orders-production"), {}),
        ("rds:DeleteDBSubnetGroup", arn("rds", f"subgrp:shipmate-{other}-orders-production"), {}),
        (f"{elb}:DeleteLoadBalancer", balancer, {}),
        (f"{elb}:DeleteTargetGroup", arn(elb, f"targetgroup/shipmate-{other}-orders/73e2"), {}),
        (f"{elb}:DeleteListener", balancer.replace(":loadbalancer/", ":listener/") + "/f2f7", {}),
        (
            "ecs:UpdateService",
            arn("ecs", f"service/shipmate-production/shipmate-{other}-orders-production"),
            cluster,
        ),
        (
            "ecs:DeleteService",
            arn("ecs", f"service/shipmate-production/shipmate-{other}-orders-production"),
            cluster,
        ),
        (
            "ecs:RunTask",
            arn("ecs", f"task-definition/shipmate-{other}-orders-production:3"),
            cluster,
        ),
        ("ecs:DeleteTaskDefinitions", arn("ecs", f"task-definition/shipmate-{other}-o-p:3"), {}),
        ("ecr:PutImage", arn("ecr", f"repository/shipmate-{other}/orders"), {}),
        ("ecr:CreateRepository", arn("ecr", "repository/orders"), {}),
        (
            "secretsmanager:DeleteSecret",
            arn("secretsmanager", f"secret:shipmate/{other}/o/p-AbCd"),
            {},
        ),
        (
            "logs:DeleteLogGroup",
            arn("logs", f"log-group:/shipmate/{other}/orders/production:*"),
            {},
        ),
        ("sqs:DeleteQueue", arn("sqs", f"shipmate-{other}-orders-production-events"), {}),
        (
            "ecs:RegisterTaskDefinition",
            "*",
            {"aws:RequestTag/shipmate.installation": other},
        ),
    ]


@pytest.mark.parametrize("other", ["theirs", "a", "prod12"])
def test_another_installations_resources_cannot_be_deleted_or_changed(configured, other):
    """`prod1` may not touch `prod12`'s things although one name starts like the other."""
    ours = configured.model_copy(update={"installation": "prod1"})
    policy = worker_policy(ours)
    calls = _another_installations(configured.aws_region, other)
    let_through = [
        (action, arn) for action, arn, context in calls if allowed(policy, action, arn, context)
    ]
    assert let_through == []
    # the same calls on its own things are allowed: the refusals are about the prefix
    own = _another_installations(configured.aws_region, "prod1")
    refused = [
        (action, arn)
        for action, arn, context in own
        if not allowed(policy, action, arn, context) and not action.endswith("CreateRepository")
    ]
    assert refused == []
