"""An ECS deploy or tear-down never takes over an AWS resource tagged for another pair
(#29): an RDS instance, secret, target group, log group or events queue planted under
the name the deploy would use, tagged for another installation or service, is neither
reused nor deleted, and the refusal names it and whose it is. Against moto.
"""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from temporalio.testing import ActivityEnvironment

from activities.deploy_targets.ecs import AwsEcs
from activities.deploy_targets.ecs_database import instance_identifier
from activities.deploy_targets.ecs_load_balancer import target_group_name
from activities.deploy_targets.ecs_resources import log_group_name, queue_name, secret_name
from activities.deploy_targets.naming import SERVICE, labels
from activities.stages import DeliveryActivities
from tests.activities.test_ecs_deploy import deploy as deploy_to_ecs
from tests.activities.test_reused_resources import ENV, new_service, refused, someone_elses, whose
from workflows.spec import DeployTarget
from workflows.stage_models import TeardownInput


def aws(settings, name: str):
    return boto3.client(
        name, region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url
    )


def tear_down_on_ecs(settings, service: str) -> str:
    request = TeardownInput(service=service, environment=ENV, target=DeployTarget.aws_ecs)
    return ActivityEnvironment().run(DeliveryActivities(settings).tear_down_service, request)


def tagged(marks: dict) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in marks.items()]


# Each plants a resource under the name the service's deploy would use, tagged `theirs`,
# and returns its name, how to read it back (tags included) and how to remove it.


def plant_rds_instance(settings, service: str, theirs: dict):
    rds, name = aws(settings, "rds"), instance_identifier(settings, service, ENV)
    rds.create_db_instance(
        DBInstanceIdentifier=name,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="theirs",
        ManageMasterUserPassword=True,  # as Shipmate makes them: a deploy could use it
        Tags=tagged(theirs),
    )

    def state():
        (found,) = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"]
        return found["DbiResourceId"], found["DBInstanceStatus"], found["TagList"]

    return (
        name,
        state,
        lambda: rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True),
    )


def plant_secret(settings, service: str, theirs: dict):
    manager, name = aws(settings, "secretsmanager"), secret_name(settings, service, ENV)
    value = json.dumps({"JWT_SECRET": "theirs-" + uuid.uuid4().hex})
    manager.create_secret(Name=name, SecretString=value, Tags=tagged(theirs))

    def state():
        described = manager.describe_secret(SecretId=name)
        return manager.get_secret_value(SecretId=name)["SecretString"], described["Tags"]

    return (
        name,
        state,
        lambda: manager.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True),
    )


def plant_target_group(settings, service: str, theirs: dict):
    elb, name = aws(settings, "elbv2"), target_group_name(settings, service, ENV)
    default = [{"Name": "is-default", "Values": ["true"]}]
    (vpc,) = aws(settings, "ec2").describe_vpcs(Filters=default)["Vpcs"]
    (group,) = elb.create_target_group(
        Name=name, Protocol="HTTP", Port=8000, VpcId=vpc["VpcId"], Tags=tagged(theirs)
    )["TargetGroups"]
    arn = group["TargetGroupArn"]

    def state():  # its balancers (no listener was added) and its tags
        (found,) = elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"]
        return found["LoadBalancerArns"], elb.describe_tags(ResourceArns=[arn])["TagDescriptions"]

    return name, state, lambda: elb.delete_target_group(TargetGroupArn=arn)


def plant_log_group(settings, service: str, theirs: dict):
    logs, name = aws(settings, "logs"), log_group_name(settings, service, ENV)
    logs.create_log_group(logGroupName=name, tags=theirs)
    return (
        name,
        lambda: logs.list_tags_log_group(logGroupName=name)["tags"],
        lambda: logs.delete_log_group(logGroupName=name),
    )


def plant_queue(settings, service: str, theirs: dict):
    sqs, name = aws(settings, "sqs"), queue_name(settings, service, ENV)
    url = sqs.create_queue(QueueName=name, tags=theirs)["QueueUrl"]
    return (
        name,
        lambda: sqs.list_queue_tags(QueueUrl=url)["Tags"],
        lambda: sqs.delete_queue(QueueUrl=url),
    )


def another_service_here(settings, service: str) -> dict:
    return {**labels(settings, service, ENV), SERVICE: f"other-{uuid.uuid4().hex[:5]}"}


PLANTED = {
    "rds instance": (plant_rds_instance, someone_elses),
    "rds instance of another service": (plant_rds_instance, another_service_here),
    "secret": (plant_secret, someone_elses),
    "target group": (plant_target_group, someone_elses),
    "log group": (plant_log_group, someone_elses),
    "events queue": (plant_queue, someone_elses),
}


@pytest.mark.parametrize("planted", list(PLANTED))
def test_an_aws_resource_tagged_for_another_pair_is_neither_reused_nor_deleted(settings, planted):
    plant, owner = PLANTED[planted]
    service = new_service()
    theirs = owner(settings, service)
    name, state, remove = plant(settings, service, theirs)
    before = state()
    image = f"{settings.registry}/{service}:v1"
    try:
        refused(lambda: deploy_to_ecs(settings, service, image, events=True), name, whose(theirs))
        assert state() == before
        refused(lambda: tear_down_on_ecs(settings, service), name, whose(theirs))
        assert state() == before
        if plant is not plant_rds_instance:  # the refused deploy made our database first,
            ours = instance_identifier(settings, service, ENV)  # the refused tear-down kept it
            rds = aws(settings, "rds")
            assert rds.describe_db_instances(DBInstanceIdentifier=ours)["DBInstances"]
    finally:
        remove()
        AwsEcs().tear_down(
            settings, TeardownInput(service=service, environment=ENV), heartbeat=print
        )
