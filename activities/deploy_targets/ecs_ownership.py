"""The tags of what a deploy or a tear-down finds on AWS under the names it uses.

Every AWS resource Shipmate makes under these names has been tagged with its pair since
the names carried the installation, so one without our tags, or with another pair's, is
refused (ownership.NotOurs) before it is reused, changed or deleted. Tags are read with
the calls a deploy already makes where AWS allows (DescribeServices and
DescribeTaskDefinition asked for their tags, DescribeDBInstances, DescribeSecret); log
groups, queues and load balancing need a tag read of their own. A resource that is not
there passes.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from activities.deploy_targets.ownership import OF_ENVIRONMENT, PAIR, require_ours
from shipmate.settings import Settings


class Owner:
    """Checks against one pair: the settings' installation, a service, an environment."""

    def __init__(self, settings: Settings, service: str, environment: str):
        self.settings, self.service, self.environment = settings, service, environment

    def require(self, what: str, tags: list[dict] | dict | None, keys=PAIR) -> None:
        require_ours(what, _as_dict(tags), self.settings, self.service, self.environment, keys)

    def instance(self, instance: dict) -> None:
        """An instance as DescribeDBInstances gives it, with its TagList."""
        what = f"the RDS instance `{instance['DBInstanceIdentifier']}`"
        self.require(what, instance.get("TagList"))

    def secret(self, manager, name: str) -> bool:
        """False when there is no such secret."""
        try:
            found = manager.describe_secret(SecretId=name)
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                return False
            raise
        self.require(f"the secret `{name}`", found.get("Tags"))
        return True

    def log_group(self, logs, name: str) -> None:
        try:
            tags = logs.list_tags_log_group(logGroupName=name)["tags"]
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                return
            raise
        self.require(f"the log group `{name}`", tags)

    def queue(self, sqs, name: str) -> str | None:
        """The queue's URL once its tags are checked; None when there is none."""
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError as exc:
            if _code(exc) in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
                return None
            raise
        self.require(f"the queue `{name}`", sqs.list_queue_tags(QueueUrl=url).get("Tags"))
        return url

    def target_group(self, elb, group: dict) -> None:
        tags = _elb_tags(elb, group["TargetGroupArn"])
        self.require(f"the target group `{group['TargetGroupName']}`", tags)

    def load_balancer(self, elb, balancer: dict) -> None:
        """The environment's balancer is shared by its services: installation and
        environment must match."""
        tags = _elb_tags(elb, balancer["LoadBalancerArn"])
        what = f"the load balancer `{balancer['LoadBalancerName']}`"
        self.require(what, tags, keys=OF_ENVIRONMENT)

    def ecs_service(self, ecs, cluster: str, name: str) -> None:
        """The ACTIVE service of that name in the cluster, if there is one."""
        try:
            found = ecs.describe_services(cluster=cluster, services=[name], include=["TAGS"])
        except ClientError as exc:
            if _code(exc) == "ClusterNotFoundException":
                return
            raise
        for service in found["services"]:
            if service["status"] == "ACTIVE":
                self.require(f"the ECS service `{name}` in `{cluster}`", service.get("tags"))

    def ecs_service_and_family(self, ecs, cluster: str, name: str) -> None:
        """Before a deploy makes anything: the ECS service and the newest revision of its
        task definition family, the two a deploy changes by name."""
        self.ecs_service(ecs, cluster, name)
        listed = ecs.list_task_definitions(familyPrefix=name, sort="DESC", maxResults=10)
        for arn in listed["taskDefinitionArns"]:
            if family_of(arn) == name:
                self.task_definition(ecs, arn)
                return

    def task_definition(self, ecs, arn: str) -> None:
        tags = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"]).get("tags")
        self.require(f"the task definition `{arn.rsplit('/', 1)[-1]}`", tags)


def family_of(arn: str) -> str:
    """`arn:…:task-definition/<family>:<revision>` -> family (a prefix matches longer ones)."""
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


def _elb_tags(elb, arn: str) -> list[dict]:
    (described,) = elb.describe_tags(ResourceArns=[arn])["TagDescriptions"]
    return described.get("Tags", [])


def _as_dict(tags: list[dict] | dict | None) -> dict[str, str]:
    """Tags as AWS lists them (`Key`/`Value`, or ECS's `key`/`value`), or a map already."""
    if isinstance(tags, dict):
        return tags
    return {
        tag.get("Key", tag.get("key")): tag.get("Value", tag.get("value")) for tag in tags or []
    }


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")
