"""The worker's IAM policy in deploy/ allows every AWS call a service's life makes.

An operator attaches deploy/iam-worker-policy.json to the worker's role; a call it does
not allow fails on real AWS only, halfway through a deploy or a tear-down. Here every
call the worker makes against moto while deploying, rolling back and tearing down is
recorded and looked up in the policy.
"""

from __future__ import annotations

import fnmatch
import json
import uuid
from pathlib import Path

import boto3

from activities.deploy_targets.ecs import AwsEcs
from tests.activities.test_ecs_deploy import deploy, verify
from workflows.spec import DeployTarget
from workflows.stage_models import TeardownInput

POLICY = Path(__file__).resolve().parents[2] / "deploy" / "iam-worker-policy.json"


def allowed_actions() -> list[str]:
    actions = []
    for statement in json.loads(POLICY.read_text())["Statement"]:
        if statement["Effect"] == "Allow":
            listed = statement["Action"]
            actions += [listed] if isinstance(listed, str) else listed
    return actions


def test_every_call_of_a_service_life_on_ecs_is_allowed_by_the_policy(settings):
    boto3.setup_default_session()
    calls: set[str] = set()

    def record(model, **_):
        calls.add(f"{model.service_model.signing_name}:{model.name}")

    boto3.DEFAULT_SESSION.events.register("before-call.*.*", record)
    try:
        service = f"audited-{uuid.uuid4().hex[:6]}"
        image = f"{settings.registry}/{service}"
        deploy(settings, service, f"{image}:v1", version=1, events=True)
        second = deploy(settings, service, f"{image}:v2", version=2, events=True)
        verify(settings, second)
        deploy(settings, service, f"{image}:v1", version=1, events=True, migrate_down_with="v2")
        request = TeardownInput(service=service, environment="staging", target=DeployTarget.aws_ecs)
        AwsEcs().tear_down(settings, request, heartbeat=print)
    finally:
        boto3.DEFAULT_SESSION.events.unregister("before-call.*.*", record)

    assert {"rds:CreateDBInstance", "elasticloadbalancing:CreateListener"} <= calls
    patterns = allowed_actions()
    refused = sorted(c for c in calls if not any(fnmatch.fnmatch(c, p) for p in patterns))
    assert refused == []
