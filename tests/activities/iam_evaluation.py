"""Looking AWS calls up in the worker's IAM policy as IAM would, conservatively.

`requests(call)` turns one recorded boto3 call into what IAM authorizes for it: the
action, the ARN of each resource it names (or `*` for actions AWS gives no resource
scope) and the condition keys it carries, including the implied checks (tagging on
create, PassRole of a task definition's roles, RDS's own calls for a managed
password). `allowed` grants a request only when one Allow statement matches its action,
its resource and every condition; a condition key the request does not carry, or an
operator this file does not know, never matches. A call this file cannot map fails.
"""

from __future__ import annotations

import fnmatch
from urllib.parse import urlparse

ACCOUNT = "123456789012"  # moto's


def _listed(value) -> list:
    return [value] if isinstance(value, str) else list(value)


def _condition_holds(operator: str, key: str, wanted, context: dict) -> bool:
    if key not in context:
        return False
    have = _listed(context[key])
    patterns = _listed(wanted)
    if operator in ("StringEquals", "ArnEquals", "ForAnyValue:StringEquals"):
        return any(h in patterns for h in have)
    if operator in ("StringLike", "ArnLike", "ForAnyValue:StringLike"):
        return any(fnmatch.fnmatchcase(h, p) for h in have for p in patterns)
    return False


def allowed(policy: dict, action: str, resource: str, context: dict | None = None) -> bool:
    context = context or {}
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        if not any(
            fnmatch.fnmatch(action.lower(), a.lower()) for a in _listed(statement["Action"])
        ):
            continue
        if not any(fnmatch.fnmatchcase(resource, r) for r in _listed(statement["Resource"])):
            continue
        conditions = statement.get("Condition", {})
        if all(
            _condition_holds(operator, key, wanted, context)
            for operator, keys in conditions.items()
            for key, wanted in keys.items()
        ):
            return True
    return False


def _tags(params: dict, field: str = "Tags") -> dict:
    given = params.get(field) or params.get(field.lower()) or []
    if isinstance(given, dict):
        return dict(given)
    return {t.get("Key", t.get("key")): t.get("Value", t.get("value")) for t in given}


def _request_tags(tags: dict) -> dict:
    return {f"aws:RequestTag/{k}": v for k, v in tags.items()} | {"aws:TagKeys": list(tags)}


class Requests:
    """The IAM requests of the calls one region's worker makes."""

    def __init__(self, region: str):
        self.region = region

    def arn(self, service: str, rest: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT}:{rest}"

    def __call__(self, service: str, operation: str, params: dict) -> list[tuple]:
        handler = getattr(self, f"_{service.replace('-', '_')}", None)
        made = handler(operation, params) if handler else None
        if made is None:
            raise AssertionError(f"{service}:{operation} is not modelled in iam_evaluation.py")
        return made

    # --- ECS --------------------------------------------------------------------------

    def _cluster(self, name: str | None) -> str:
        name = name or "default"
        return name if name.startswith("arn:") else self.arn("ecs", f"cluster/{name}")

    def _task_definition(self, named: str) -> str:
        if named.startswith("arn:"):
            return named
        return self.arn("ecs", f"task-definition/{named if ':' in named else named + ':1'}")

    def _ecs(self, operation: str, p: dict):
        cluster = self._cluster(p.get("cluster"))
        where = {"ecs:cluster": cluster}
        cluster_name = cluster.rsplit("/", 1)[-1]

        def service(name: str) -> str:
            return (
                name
                if name.startswith("arn:")
                else self.arn("ecs", f"service/{cluster_name}/{name}")
            )

        if operation == "CreateCluster":
            return [("ecs:CreateCluster", self._cluster(p["clusterName"]), {})]
        if operation == "DescribeServices":
            return [("ecs:DescribeServices", service(s), where) for s in p["services"]]
        if operation == "CreateService":
            arn, tags = service(p["serviceName"]), _tags(p, "tags")
            made = [("ecs:CreateService", arn, where | _request_tags(tags))]
            if tags:
                context = {"ecs:CreateAction": "CreateService"} | _request_tags(tags)
                made.append(("ecs:TagResource", arn, context))
            return made
        if operation in ("UpdateService", "DeleteService"):
            return [(f"ecs:{operation}", service(p["service"]), where)]
        if operation == "RegisterTaskDefinition":
            tags = _tags(p, "tags")
            made = [("ecs:RegisterTaskDefinition", "*", _request_tags(tags))]
            if tags:
                context = {"ecs:CreateAction": "RegisterTaskDefinition"} | _request_tags(tags)
                made.append(("ecs:TagResource", self._task_definition(p["family"]), context))
            for role in ("executionRoleArn", "taskRoleArn"):
                if p.get(role):
                    passed = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
                    made.append(("iam:PassRole", p[role], passed))
            return made
        if operation in ("DescribeTaskDefinition", "ListTaskDefinitions"):
            return [(f"ecs:{operation}", "*", {})]
        if operation == "DeregisterTaskDefinition":
            return [("ecs:DeregisterTaskDefinition", "*", {})]
        if operation == "DeleteTaskDefinitions":
            return [("ecs:DeleteTaskDefinitions", t, {}) for t in p["taskDefinitions"]]
        if operation == "RunTask":
            return [("ecs:RunTask", self._task_definition(p["taskDefinition"]), where)]
        if operation == "DescribeTasks":
            return [
                (
                    "ecs:DescribeTasks",
                    t if t.startswith("arn:") else self.arn("ecs", f"task/{cluster_name}/{t}"),
                    where,
                )
                for t in p["tasks"]
            ]
        return None

    # --- RDS, and what RDS does on the worker's behalf -----------------------------------

    def _rds(self, operation: str, p: dict):
        def db(name: str) -> str:
            return self.arn("rds", f"db:{name}")

        def subnet_group(name: str) -> str:
            return self.arn("rds", f"subgrp:{name}")

        tags = _request_tags(_tags(p))
        if operation == "DescribeDBInstances":
            return [("rds:DescribeDBInstances", db(p["DBInstanceIdentifier"]), {})]
        if operation == "CreateDBSubnetGroup":
            arn = subnet_group(p["DBSubnetGroupName"])
            return [("rds:CreateDBSubnetGroup", arn, tags), ("rds:AddTagsToResource", arn, tags)]
        if operation == "CreateDBInstance":
            arn, engine = db(p["DBInstanceIdentifier"]), p["Engine"]
            made = [
                ("rds:CreateDBInstance", arn, tags),
                ("rds:CreateDBInstance", subnet_group(p["DBSubnetGroupName"]), tags),
                ("rds:CreateDBInstance", self.arn("rds", f"pg:default.{engine}16"), tags),
                ("rds:CreateDBInstance", self.arn("rds", f"og:default:{engine}-16"), tags),
                ("rds:AddTagsToResource", arn, tags),
            ]
            if p.get("ManageMasterUserPassword"):
                secret = self.arn("secretsmanager", "secret:rds!db-0f1e2d3c-AbCdEf")
                via = {"kms:ViaService": f"rds.{self.region}.amazonaws.com"}
                made += [
                    ("secretsmanager:CreateSecret", secret, {}),
                    ("secretsmanager:TagResource", secret, {}),
                    ("kms:DescribeKey", self.arn("kms", "key/0f1e2d3c-aws-rds"), via),
                ]
            return made
        if operation == "DeleteDBInstance":
            return [("rds:DeleteDBInstance", db(p["DBInstanceIdentifier"]), {})]
        if operation == "DeleteDBSubnetGroup":
            return [("rds:DeleteDBSubnetGroup", subnet_group(p["DBSubnetGroupName"]), {})]
        return None

    # --- Elastic Load Balancing --------------------------------------------------------

    def _elasticloadbalancing(self, operation: str, p: dict):
        elb = "elasticloadbalancing"
        tags = _request_tags(_tags(p))
        if operation.startswith("Describe"):
            return [(f"{elb}:{operation}", "*", {})]
        if operation == "CreateLoadBalancer":
            arn = self.arn(elb, f"loadbalancer/app/{p['Name']}/50dc6c495c0c9188")
            return [(f"{elb}:CreateLoadBalancer", arn, tags), (f"{elb}:AddTags", arn, tags)]
        if operation == "CreateTargetGroup":
            arn = self.arn(elb, f"targetgroup/{p['Name']}/73e2d6bc24d8a067")
            return [(f"{elb}:CreateTargetGroup", arn, tags), (f"{elb}:AddTags", arn, tags)]
        if operation in ("ModifyTargetGroupAttributes", "DeleteTargetGroup"):
            return [(f"{elb}:{operation}", p["TargetGroupArn"], {})]
        if operation == "CreateListener":
            balancer = p["LoadBalancerArn"]
            listener = balancer.replace(":loadbalancer/", ":listener/") + "/f2f7dc8efc522ab2"
            return [
                (f"{elb}:CreateListener", balancer, tags),
                (f"{elb}:CreateListener", listener, tags),
                (f"{elb}:AddTags", listener, tags),
            ]
        if operation == "DeleteListener":
            return [(f"{elb}:DeleteListener", p["ListenerArn"], {})]
        if operation == "DeleteLoadBalancer":
            return [(f"{elb}:DeleteLoadBalancer", p["LoadBalancerArn"], {})]
        return None

    # --- the rest ----------------------------------------------------------------------

    def _ec2(self, operation: str, p: dict):
        return [(f"ec2:{operation}", "*", {})] if operation.startswith("Describe") else None

    def _secretsmanager(self, operation: str, p: dict):
        name = p.get("SecretId") or p.get("Name")
        arn = (
            name if name.startswith("arn:") else self.arn("secretsmanager", f"secret:{name}-AbCdEf")
        )
        made = [(f"secretsmanager:{operation}", arn, _request_tags(_tags(p)))]
        if operation == "CreateSecret" and p.get("Tags"):
            made.append(("secretsmanager:TagResource", arn, _request_tags(_tags(p))))
        return made

    def _logs(self, operation: str, p: dict):
        group = self.arn("logs", f"log-group:{p['logGroupName']}")
        if operation == "GetLogEvents":
            return [("logs:GetLogEvents", f"{group}:log-stream:{p['logStreamName']}", {})]
        made = [(f"logs:{operation}", f"{group}:*", _request_tags(_tags(p, "tags")))]
        if operation == "CreateLogGroup" and p.get("tags"):
            made.append(("logs:TagResource", f"{group}:*", _request_tags(_tags(p, "tags"))))
        return made

    def _sqs(self, operation: str, p: dict):
        name = p.get("QueueName") or urlparse(p["QueueUrl"]).path.rsplit("/", 1)[-1]
        arn = self.arn("sqs", name)
        made = [(f"sqs:{operation}", arn, _request_tags(_tags(p, "tags")))]
        if operation == "CreateQueue" and p.get("tags"):
            made.append(("sqs:TagQueue", arn, _request_tags(_tags(p, "tags"))))
        return made

    def _ecr(self, operation: str, p: dict):
        def repository(name: str) -> str:
            return self.arn("ecr", f"repository/{name}")

        if operation == "GetAuthorizationToken":
            return [("ecr:GetAuthorizationToken", "*", {})]
        if operation == "CreateRepository":
            arn, tags = repository(p["repositoryName"]), _request_tags(_tags(p, "tags"))
            return [("ecr:CreateRepository", arn, tags), ("ecr:TagResource", arn, tags)]
        if operation == "DescribeRepositories":
            return [("ecr:DescribeRepositories", repository(n), {}) for n in p["repositoryNames"]]
        if operation in ("ListTagsForResource", "TagResource"):
            return [(f"ecr:{operation}", p["resourceArn"], {})]
        if operation in ("PutImage", "BatchGetImage", "InitiateLayerUpload"):
            return [(f"ecr:{operation}", repository(p["repositoryName"]), {})]
        return None
