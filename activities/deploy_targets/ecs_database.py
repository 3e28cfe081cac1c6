"""An RDS database per service and environment, made once and kept across deploys.

The master password is RDS-managed in Secrets Manager (`ManageMasterUserPassword`): no
person and no Shipmate message ever sees it. The task gets the database's address as
plain settings and the user name and password as ECS `secrets` read from that secret;
the generated service assembles its DATABASE_URL from them when it starts, so a rotated
password reaches the next task without a new deploy. An instance found under the pair's
name is reused only when its tags name the pair (ecs_ownership).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from botocore.exceptions import ClientError

from activities.deploy_targets.base import DeployFailed, Heartbeat
from activities.deploy_targets.ecs_ownership import Owner
from activities.deploy_targets.naming import aws_tags, database_identifier, resource_name
from shipmate.settings import Settings
from workflows.spec import Database

ENGINES = {Database.postgresql: "postgres", Database.mysql: "mysql"}
URL_SCHEMES = {Database.postgresql: "postgresql", Database.mysql: "mysql"}
MASTER_USER = "shipmate"
CREATE_TIMEOUT = 30 * 60  # RDS takes 5 to 15 minutes to make an instance
DELETE_TIMEOUT = 20 * 60  # and about as long to delete one


@dataclass
class DatabaseAccess:
    """What the task needs to reach its database; the secret holds username and password."""

    host: str
    port: int
    name: str
    scheme: str
    secret_arn: str

    def environment(self) -> list[dict]:
        return [
            {"name": "DATABASE_HOST", "value": self.host},
            {"name": "DATABASE_PORT", "value": str(self.port)},
            {"name": "DATABASE_NAME", "value": self.name},
            {"name": "DATABASE_SCHEME", "value": self.scheme},
        ]

    def secrets(self) -> list[dict]:
        return [
            {"name": "DATABASE_USER", "valueFrom": f"{self.secret_arn}:username::"},
            {"name": "DATABASE_PASSWORD", "valueFrom": f"{self.secret_arn}:password::"},
        ]


def instance_identifier(settings: Settings, service: str, environment: str) -> str:
    return resource_name(settings, service, environment, limit=63)


def ensure_database(
    settings: Settings,
    rds,
    service: str,
    environment: str,
    database: Database,
    network: dict,
    heartbeat: Heartbeat,
) -> DatabaseAccess:
    """The service's instance, created on its first deploy, once it is available."""
    if database not in ENGINES:
        raise DeployFailed(
            f"{service} keeps its data in {database.value}, which lives on the task's own disk "
            "and is lost whenever ECS replaces the task: ask for PostgreSQL or MySQL on ECS"
        )
    identifier = instance_identifier(settings, service, environment)
    owner = Owner(settings, service, environment)
    instance = describe_instance(rds, identifier)
    if instance is None:
        _create(settings, rds, identifier, service, environment, database, network)
        instance = describe_instance(rds, identifier)  # ours, or another's made meanwhile
    if instance is not None:
        owner.instance(instance)
    instance = _wait_until_available(rds, identifier, heartbeat)
    return DatabaseAccess(
        host=instance["Endpoint"]["Address"],
        port=instance["Endpoint"]["Port"],
        name=instance["DBName"],
        scheme=URL_SCHEMES[database],
        secret_arn=instance["MasterUserSecret"]["SecretArn"],
    )


def describe_instance(rds, identifier: str) -> dict | None:
    try:
        (found,) = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "DBInstanceNotFound":
            return None
        raise
    return found


def _create(settings, rds, identifier, service, environment, database, network) -> None:
    subnet_group = _ensure_subnet_group(settings, rds, identifier, service, environment, network)
    try:
        rds.create_db_instance(
            DBInstanceIdentifier=identifier,
            DBName=database_identifier(settings, service, environment),
            Engine=ENGINES[database],
            DBInstanceClass=settings.rds_instance_class,
            AllocatedStorage=settings.rds_storage_gb,
            MasterUsername=MASTER_USER,
            ManageMasterUserPassword=True,
            DBSubnetGroupName=subnet_group,
            VpcSecurityGroupIds=network["securityGroups"],
            PubliclyAccessible=False,
            StorageEncrypted=True,
            BackupRetentionPeriod=7,
            Tags=aws_tags(settings, service, environment),
        )
    except ClientError as exc:  # a retried attempt made it already: wait for that one
        if exc.response["Error"]["Code"] != "DBInstanceAlreadyExists":
            raise


def _ensure_subnet_group(settings, rds, identifier, service, environment, network) -> str:
    """The instance lives in the same subnets as the tasks that use it."""
    try:
        rds.create_db_subnet_group(
            DBSubnetGroupName=identifier,
            DBSubnetGroupDescription=f"Shipmate: {service} in {environment}",
            SubnetIds=network["subnets"],
            Tags=aws_tags(settings, service, environment),
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "DBSubnetGroupAlreadyExists":
            raise
    return identifier


def _wait_until_available(rds, identifier: str, heartbeat: Heartbeat) -> dict:
    deadline = time.monotonic() + CREATE_TIMEOUT
    while True:
        instance = describe_instance(rds, identifier)
        status = instance["DBInstanceStatus"] if instance else "gone"
        if status == "available" and instance.get("Endpoint"):
            return instance
        if status in ("failed", "incompatible-parameters", "incompatible-network", "gone"):
            raise DeployFailed(f"the database {identifier} is {status}: RDS's events say why")
        if time.monotonic() > deadline:
            raise DeployFailed(
                f"the database {identifier} is still {status} after {CREATE_TIMEOUT // 60} min"
            )
        heartbeat(f"waiting for the database {identifier}: {status}")
        time.sleep(10)


def delete_database(rds, identifier: str, heartbeat: Heartbeat) -> bool:
    """Delete the instance (its RDS-managed secret goes with it) and then its subnet group;
    False when there was none. No final snapshot: the approvers were told it is deleted."""
    instance = describe_instance(rds, identifier)
    if instance is not None and instance["DBInstanceStatus"] != "deleting":
        rds.delete_db_instance(
            DBInstanceIdentifier=identifier, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
        )
    deadline = time.monotonic() + DELETE_TIMEOUT
    while describe_instance(rds, identifier) is not None:  # the subnet group waits for it
        if time.monotonic() > deadline:
            raise DeployFailed(
                f"the database {identifier} was still being deleted after "
                f"{DELETE_TIMEOUT // 60} min; retry the tear-down once RDS has removed it"
            )
        heartbeat(f"deleting the database {identifier}")
        time.sleep(10)
    try:
        rds.delete_db_subnet_group(DBSubnetGroupName=identifier)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "DBSubnetGroupNotFoundFault":
            raise
    return instance is not None
