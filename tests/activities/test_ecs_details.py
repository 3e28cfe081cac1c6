"""What an operator checks in the AWS console after an ECS deploy and a tear-down.

The database sits beside its tasks, encrypted; a new version starts beside the old one
and the old one drains in 30 s; a tear-down deletes things in the order the README gives
(nothing is deleted while something made later still uses it) and keeps no final
snapshot, as the tear-down's confirmation tells the approvers. All against moto in server
mode: what it reports through boto3, and the calls the worker made, recorded in order
on botocore's events.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import boto3
import pytest
from botocore.exceptions import ClientError

from activities.deploy_targets.ecs import AwsEcs
from activities.stages import DeliveryActivities
from shipmate import delivery_client
from slack_views.card import status_card
from testkit.fake_stages import Script, on_every_queue
from tests.activities.test_ecs_deploy import aws, deploy, ecs_name, ecs_service, rds_instance
from tests.workflows.test_undo_deliveries import TEAR_DOWN, deliver, undo
from tests.workflows.test_workflows import gate_open, unique, until
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import DeliveryState
from workflows.service_workflow import ServiceWorkflow
from workflows.spec import DeployTarget
from workflows.stage_models import TeardownInput


@contextmanager
def recorded_calls():
    """Every AWS call the worker makes, in order: ("request:<Operation>", its parameters)
    as the call goes out, then ("<service>:<Operation>", the answer) once AWS accepted it.

    The same hook as test_iam_policy: botocore's events on the default session, which
    every client the activities make comes from."""
    boto3.setup_default_session()
    calls: list[tuple[str, dict]] = []

    def answered(model, http_response, parsed, **_):
        if http_response.status_code < 300:
            calls.append((f"{model.service_model.signing_name}:{model.name}", parsed))

    def with_request(model, params, **_):
        calls.append((f"request:{model.name}", dict(params)))

    events = boto3.DEFAULT_SESSION.events
    events.register("provide-client-params", with_request)
    events.register("after-call", answered)
    try:
        yield calls
    finally:
        events.unregister("provide-client-params", with_request)
        events.unregister("after-call", answered)


def actions(calls) -> list[str]:
    return [name for name, _ in calls if not name.startswith("request:")]


def requests_of(calls, operation: str) -> list[dict]:
    return [params for name, params in calls if name == f"request:{operation}"]


def own_network(settings) -> tuple[list[str], list[str]]:
    """A VPC of the test's own with two subnets and a security group, as an operator sets
    SHIPMATE_ECS_SUBNETS and SHIPMATE_ECS_SECURITY_GROUPS to keep services off the
    default VPC."""
    ec2 = aws(settings, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.77.{i}.0/24", AvailabilityZone=zones[i])[
            "Subnet"
        ]["SubnetId"]
        for i in range(2)
    ]
    group = ec2.create_security_group(
        GroupName=f"services-{uuid.uuid4().hex[:6]}", Description="services", VpcId=vpc
    )["GroupId"]
    return subnets, [group]


def test_the_database_is_encrypted_private_and_in_the_tasks_subnets_and_groups(settings):
    """RDS is made in the subnets and security groups the tasks run in, so the tasks reach
    it and nothing else needs to; its storage is encrypted and it has no public address."""
    subnets, groups = own_network(settings)
    placed = settings.model_copy(update={"ecs_subnets": subnets, "ecs_security_groups": groups})
    service, env = f"vault-{uuid.uuid4().hex[:6]}", "sandbox"  # a balancer in this VPC
    deploy(placed, service, f"{settings.registry}/{service}:v1", environment=env)

    tasks = ecs_service(settings, service, env)["networkConfiguration"]["awsvpcConfiguration"]
    assert sorted(tasks["subnets"]) == sorted(subnets)
    assert tasks["securityGroups"] == groups
    instance = rds_instance(settings, service, env)
    assert instance["StorageEncrypted"] is True
    assert instance["PubliclyAccessible"] is False
    in_subnets = [s["SubnetIdentifier"] for s in instance["DBSubnetGroup"]["Subnets"]]
    assert sorted(in_subnets) == sorted(tasks["subnets"])
    assert [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]] == groups
    AwsEcs().tear_down(placed, teardown(service, env), heartbeat=print)


def test_a_new_version_starts_beside_the_old_one_which_drains_in_30_seconds(settings):
    """100 %/200 %: ECS keeps every old task until as many new ones are healthy, and may
    run twice the count meanwhile; an old task leaving the target group finishes its
    requests for 30 s (not AWS's default 300 s) before it stops.

    moto drops a service's deploymentConfiguration (describe_services never shows it), so
    the rollout is read from the CreateService request the worker sent; the drain is what
    the target group reports."""
    service = f"relay-{uuid.uuid4().hex[:6]}"
    with recorded_calls() as calls:
        first = deploy(settings, service, f"{settings.registry}/{service}:v1")
    (created,) = requests_of(calls, "CreateService")
    rollout = created["deploymentConfiguration"]
    assert (rollout["minimumHealthyPercent"], rollout["maximumPercent"]) == (100, 200)
    assert rollout["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert created["desiredCount"] == 1

    (attached,) = ecs_service(settings, service)["loadBalancers"]
    elb = aws(settings, "elbv2")
    attributes = elb.describe_target_group_attributes(TargetGroupArn=attached["targetGroupArn"])
    drain = {a["Key"]: a["Value"] for a in attributes["Attributes"]}
    assert drain["deregistration_delay.timeout_seconds"] == "30"

    with recorded_calls() as calls:  # the next version moves the same service
        second = deploy(settings, service, f"{settings.registry}/{service}:v2", version=2)
    assert requests_of(calls, "CreateService") == []
    (updated,) = requests_of(calls, "UpdateService")
    assert updated["taskDefinition"] == second.task_definition != first.task_definition
    assert ecs_service(settings, service)["loadBalancers"] == [attached]
    AwsEcs().tear_down(settings, teardown(service, "staging"), heartbeat=print)


def teardown(service: str, env: str) -> TeardownInput:
    return TeardownInput(service=service, environment=env, target=DeployTarget.aws_ecs)


# What the README says a tear-down deletes, in its order.
TEAR_DOWN_ORDER = [
    "ecs:DeleteService",
    "elasticloadbalancing:DeleteListener",
    "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:DeleteLoadBalancer",  # the environment's last service
    "ecs:DeregisterTaskDefinition",
    "rds:DeleteDBInstance",  # its RDS-managed secret goes with it
    "secretsmanager:DeleteSecret",
    "sqs:DeleteQueue",
    "logs:DeleteLogGroup",
]


def test_tear_down_deletes_in_order_and_keeps_no_final_snapshot(settings):
    """The service stops before its route goes, the route before the balancer, the tasks'
    revisions before the database they connect to, and the database with its password
    before the service's own secret, queue and logs: a tear-down stopped half-way never
    leaves a running task without what it uses. No snapshot of the data remains."""
    service, env = f"ledger-{uuid.uuid4().hex[:6]}", "dev"
    deploy(settings, service, f"{settings.registry}/{service}:v1", environment=env, events=True)
    deploy(settings, service, f"{settings.registry}/{service}:v2", environment=env, events=True)
    master = rds_instance(settings, service, env)["MasterUserSecret"]["SecretArn"]

    password_when_secret_goes = []

    def look_at_the_password(**_):  # on a session of its own: not recorded
        own = boto3.session.Session().client(
            "secretsmanager",
            region_name=settings.aws_region,
            endpoint_url=settings.aws_endpoint_url,
        )
        try:
            own.describe_secret(SecretId=master)
            password_when_secret_goes.append("still there")
        except ClientError:
            password_when_secret_goes.append("gone")

    with recorded_calls() as calls:
        boto3.DEFAULT_SESSION.events.register(
            "provide-client-params.secrets-manager.DeleteSecret", look_at_the_password
        )
        AwsEcs().tear_down(settings, teardown(service, env), heartbeat=print)

    assert password_when_secret_goes == ["gone"]  # it went with the database, before
    done = actions(calls)
    deletions = [a for a in done if a in TEAR_DOWN_ORDER]
    assert list(dict.fromkeys(deletions)) == TEAR_DOWN_ORDER, done
    first = {action: done.index(action) for action in TEAR_DOWN_ORDER}
    last_revision = max(i for i, a in enumerate(done) if a == "ecs:DeregisterTaskDefinition")
    assert last_revision < first["rds:DeleteDBInstance"]  # every revision, not only one
    assert deletions.count("ecs:DeregisterTaskDefinition") == 2
    # the service was scaled to zero before it was deleted
    assert done.index("ecs:UpdateService") < first["ecs:DeleteService"]
    (scaled,) = requests_of(calls, "UpdateService")
    assert scaled["desiredCount"] == 0
    (dropped,) = requests_of(calls, "DeleteDBInstance")
    assert dropped["SkipFinalSnapshot"] is True and "FinalDBSnapshotIdentifier" not in dropped

    rds = aws(settings, "rds")
    identifier = ecs_name(settings, service, env)
    snapshots = rds.describe_db_snapshots()["DBSnapshots"]
    assert [s for s in snapshots if s["DBInstanceIdentifier"] == identifier] == []
    with pytest.raises(ClientError, match="ResourceNotFound"):  # the RDS-managed password
        aws(settings, "secretsmanager").describe_secret(SecretId=master)
    with pytest.raises(ClientError, match="DBInstanceNotFound"):
        rds.describe_db_instances(DBInstanceIdentifier=identifier)


@pytest.fixture()
async def ecs_undo_worker(client, settings):
    """Scripted stages up to the push; the real deploy, verify, tear-down plan and
    tear-down against moto."""
    local = settings.model_copy(
        update={"task_queue": f"ecs-undo-{uuid.uuid4().hex[:8]}", "approvers": ["U0BOB"]}
    )
    real = DeliveryActivities(local)
    kept = ("deploy_service", "verify_service", "describe_teardown", "tear_down_service")
    scripted = [
        a
        for a in Script(settings=local).activities()
        if a.__temporal_activity_definition.name not in kept
    ]
    own = [real.deploy_service, real.verify_service, real.describe_teardown]
    with ThreadPoolExecutor(max_workers=4) as executor:
        worker = on_every_queue(
            client,
            task_queue=local.task_queue,
            workflows=[ServiceWorkflow, DeliveryWorkflow],
            activities=[*scripted, *own, real.tear_down_service],
            activity_executor=executor,
        )
        async with worker:
            yield local


def approve_button_confirm(status) -> dict:
    """The dialog Slack shows when an approver clicks Approve on the card."""
    for block in status_card(status, "http://127.0.0.1:8233"):
        for element in block.to_dict().get("elements", []):
            if element.get("action_id") == "approve":
                return element["confirm"]
    raise AssertionError("the card has no Approve button")


async def test_the_tear_down_confirmation_says_there_is_no_final_snapshot(client, ecs_undo_worker):
    """An approver deleting a database on ECS is told, in the dialog they confirm, that no
    final snapshot is kept; and none is."""
    settings = ecs_undo_worker
    text, spec = unique("build a pantry api with postgres, deploy on ECS")
    spec = spec.model_copy(
        update={"name": f"pantry-{uuid.uuid4().hex[:6]}-stock-keeping-ledger-api"}
    )
    first = await deliver(client, settings, text, spec)
    assert first.state == DeliveryState.succeeded, first.error
    identifier = ecs_name(settings, spec.name)
    assert rds_instance(settings, spec.name)["DBInstanceStatus"] == "available"

    ticket = await undo(client, settings, TEAR_DOWN, spec.name)
    handle = client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)
    waiting = await until(handle, gate_open("staging"))
    confirm = approve_button_confirm(waiting)
    assert confirm["title"]["text"] == "Tear down staging?"
    said = confirm["text"]["text"]
    assert f"the RDS database `{identifier}` and all its data (no final snapshot)" in said
    assert said.startswith("This deletes the RDS database")  # what cannot come back, first
    assert said.endswith(" It cannot be undone.")

    await delivery_client.decide(client, ticket.delivery_id, "U0BOB", "staging", approve=True)
    final = await handle.result()
    assert final.state == DeliveryState.succeeded and final.torn_down == ["staging"]
    rds = aws(settings, "rds")
    with pytest.raises(ClientError, match="DBInstanceNotFound"):
        rds.describe_db_instances(DBInstanceIdentifier=identifier)
    snapshots = rds.describe_db_snapshots()["DBSnapshots"]
    assert [s for s in snapshots if s["DBInstanceIdentifier"] == identifier] == []
