"""Names, clients and network of everything Shipmate makes on AWS for a service.

Every name carries the installation id (see naming), so two installations sharing an
AWS account never touch each other's services, secrets, queues or log groups.
"""

from __future__ import annotations

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from activities.deploy_targets.base import DeployFailed
from activities.deploy_targets.naming import aws_path, resource_name
from shipmate.settings import Settings

# AWS answers that no retry will change: the person must fix something first.
PERMANENT_ERRORS = {
    "AccessDeniedException",
    "AccessDenied",
    "ClientException",
    "InvalidParameterException",
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredTokenException",
}


class EcsDeployFailed(DeployFailed):
    """AWS refused the deploy or the rollout failed; the message says what to fix."""


# Each AWS call is bounded (botocore's defaults, 60 s to connect and 60 to read, five
# attempts, could hold a stage for ten minutes), so the stages' limits in
# workflows/stage_limits.py can count it: at most AWS_CALL_LIMIT seconds, retries included.
AWS_CALLS = Config(
    connect_timeout=3, read_timeout=15, retries={"mode": "standard", "max_attempts": 3}
)
AWS_CALL_LIMIT = 3 * (3 + 15) + 2 + 4  # three attempts, and standard mode's two backoffs


def aws_client(settings: Settings, service_name: str):
    return boto3.client(
        service_name,
        region_name=settings.aws_region,
        endpoint_url=settings.aws_endpoint_url,
        config=AWS_CALLS,
    )


def cluster_name(settings: Settings, environment: str) -> str:
    return settings.ecs_cluster.format(environment=environment)


def ecs_service_name(settings: Settings, service: str, environment: str) -> str:
    """The ECS service and its task definition family."""
    return resource_name(settings, service, environment, limit=255)


def secret_name(settings: Settings, service: str, environment: str) -> str:
    return aws_path(settings, service, environment)


def log_group_name(settings: Settings, service: str, environment: str) -> str:
    return "/" + aws_path(settings, service, environment)


def queue_name(settings: Settings, service: str, environment: str) -> str:
    return resource_name(settings, service, environment, limit=73) + "-events"


def active_service(ecs, cluster: str, name: str) -> dict | None:
    """The ECS service as described, while it is ACTIVE; None when gone or never made."""
    try:
        found = ecs.describe_services(cluster=cluster, services=[name])["services"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ClusterNotFoundException":
            return None
        raise
    return next((s for s in found if s["status"] == "ACTIVE"), None)


def console_url(settings: Settings, cluster: str, service_name: str) -> str:
    region = settings.aws_region
    return (
        f"https://{region}.console.aws.amazon.com/ecs/v2/clusters/{cluster}"
        f"/services/{service_name}/health?region={region}"
    )


def network(settings: Settings) -> tuple[dict, str]:
    """The tasks' awsvpc placement and its VPC: subnets and security groups from the
    settings, or else the default VPC's ones, as the AWS console picks them. A subnet
    that does not exist is named before anything is made."""
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
    try:
        (first,) = ec2.describe_subnets(SubnetIds=[subnets[0]])["Subnets"]
    except ClientError:
        raise EcsDeployFailed(
            f"the subnet {subnets[0]} does not exist in {settings.aws_region}: check "
            "SHIPMATE_ECS_SUBNETS"
        ) from None
    vpc = first["VpcId"]
    groups = settings.ecs_security_groups or _default_security_group(ec2, vpc)
    placement = {
        "subnets": subnets,
        "securityGroups": groups,
        "assignPublicIp": "ENABLED" if settings.ecs_assign_public_ip else "DISABLED",
    }
    return placement, vpc


def vpc_ranges(settings: Settings, vpc: str) -> list[str]:
    """The VPC's address ranges: the load balancer's addresses are among them, so the
    service trusts the client address it forwards (X-Forwarded-For) from there alone."""
    (found,) = aws_client(settings, "ec2").describe_vpcs(VpcIds=[vpc])["Vpcs"]
    ranges = [a["CidrBlock"] for a in found.get("CidrBlockAssociationSet", [])]
    return ranges or [found["CidrBlock"]]


def _default_security_group(ec2, vpc: str) -> list[str]:
    """The VPC's `default` group."""
    groups = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    return [g["GroupId"] for g in groups]
