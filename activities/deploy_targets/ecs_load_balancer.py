"""One stable address per service and environment on ECS: a port of the environment's
Application Load Balancer.

Each installation has one internet-facing ALB per environment. A service gets a target
group (its tasks register there, health-checked on /ready) and a listener on a port of
its own, kept for as long as the service lives in that environment; the listener's rule
forwards every request to the target group. A new version's tasks join the same target
group, so the URL `http://<alb dns>:<port>` never changes. Ports, unlike host names, need
no DNS to be set up first; a team that wants a name points a CNAME at the ALB. A
balancer or target group found by its name is used only when its tags say it is ours.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from activities.deploy_targets.base import DeployFailed
from activities.deploy_targets.ecs_ownership import Owner
from activities.deploy_targets.naming import SERVICE, aws_tags, resource_name
from shipmate.settings import Settings

HEALTH_PATH = "/ready"
CONTAINER_PORT = 8000


@dataclass
class Route:
    target_group_arn: str
    url: str


def load_balancer_name(settings: Settings, environment: str) -> str:
    return resource_name(settings, "alb", environment, limit=32)


def target_group_name(settings: Settings, service: str, environment: str) -> str:
    return resource_name(settings, service, environment, limit=32)


def ensure_route(
    settings: Settings, elb, service: str, environment: str, network: dict, vpc: str
) -> Route:
    """The service's target group and listener, made on its first deploy and then reused."""
    balancer = _ensure_load_balancer(settings, elb, environment, network)
    group = _ensure_target_group(settings, elb, service, environment, vpc)
    port = _listener_port(elb, balancer["LoadBalancerArn"], group)
    if port is None:
        port = _add_listener(
            settings, elb, balancer["LoadBalancerArn"], group, service, environment
        )
    return Route(target_group_arn=group, url=f"http://{balancer['DNSName']}:{port}")


def find_route(settings: Settings, elb, service: str, environment: str) -> tuple[str, str] | None:
    """The service's target group and listener ARNs (the listener may be missing), once the
    group's tags say it is this pair's."""
    group = _find_target_group(elb, target_group_name(settings, service, environment))
    if group is None:
        return None
    Owner(settings, service, environment).target_group(elb, group)
    for balancer_arn in group.get("LoadBalancerArns", []):
        for listener in elb.describe_listeners(LoadBalancerArn=balancer_arn)["Listeners"]:
            if _forwards_to(listener, group["TargetGroupArn"]):
                return group["TargetGroupArn"], listener["ListenerArn"]
    return group["TargetGroupArn"], ""


def _ensure_load_balancer(settings: Settings, elb, environment: str, network: dict) -> dict:
    name = load_balancer_name(settings, environment)
    found = find_load_balancer(settings, elb, environment)
    if found is not None:
        Owner(settings, "", environment).load_balancer(elb, found)
        return found
    made = elb.create_load_balancer(  # the same name again returns the same balancer
        Name=name,
        Subnets=network["subnets"],
        SecurityGroups=network["securityGroups"],
        Scheme="internet-facing",
        Type="application",
        Tags=[t for t in aws_tags(settings, "", environment) if t["Key"] != SERVICE],
    )
    return made["LoadBalancers"][0]


def find_load_balancer(settings: Settings, elb, environment: str) -> dict | None:
    try:
        return elb.describe_load_balancers(Names=[load_balancer_name(settings, environment)])[
            "LoadBalancers"
        ][0]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "LoadBalancerNotFound":
            return None
        raise


def _find_target_group(elb, name: str) -> dict | None:
    try:
        return elb.describe_target_groups(Names=[name])["TargetGroups"][0]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "TargetGroupNotFound":
            return None
        raise


def _ensure_target_group(settings: Settings, elb, service: str, environment: str, vpc: str):
    name = target_group_name(settings, service, environment)
    found = _find_target_group(elb, name)
    if found is not None:
        Owner(settings, service, environment).target_group(elb, found)
        return found["TargetGroupArn"]
    made = elb.create_target_group(
        Name=name,
        Protocol="HTTP",
        Port=CONTAINER_PORT,
        VpcId=vpc,
        TargetType="ip",  # Fargate tasks register by their own address
        HealthCheckPath=HEALTH_PATH,
        HealthCheckIntervalSeconds=10,
        HealthyThresholdCount=2,
        Tags=aws_tags(settings, service, environment),
    )
    group = made["TargetGroups"][0]["TargetGroupArn"]
    # Old tasks finish the requests they hold before they stop (30 s, not the 300 s default).
    elb.modify_target_group_attributes(
        TargetGroupArn=group,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}],
    )
    return group


def _forwards_to(listener: dict, group: str) -> bool:
    return any(a.get("TargetGroupArn") == group for a in listener.get("DefaultActions", []))


def _listener_port(elb, balancer: str, group: str) -> int | None:
    listeners = elb.describe_listeners(LoadBalancerArn=balancer)["Listeners"]
    return next((item["Port"] for item in listeners if _forwards_to(item, group)), None)


def _add_listener(settings, elb, balancer: str, group: str, service: str, environment: str):
    """A listener on the lowest free port; another service taking it first means the next."""
    first, _, last = settings.ecs_listener_ports.partition("-")
    for _attempt in range(5):
        taken = {
            item["Port"] for item in elb.describe_listeners(LoadBalancerArn=balancer)["Listeners"]
        }
        port = next((p for p in range(int(first), int(last) + 1) if p not in taken), None)
        if port is None:
            break
        try:
            elb.create_listener(
                LoadBalancerArn=balancer,
                Protocol="HTTP",
                Port=port,
                DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
                Tags=aws_tags(settings, service, environment),
            )
            return port
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "DuplicateListener":
                raise
    raise DeployFailed(
        f"every port in SHIPMATE_ECS_LISTENER_PORTS ({settings.ecs_listener_ports}) of the "
        f"{environment} load balancer is taken: widen the range or tear a service down"
    )


def remove_route(settings: Settings, elb, service: str, environment: str) -> bool:
    """Delete the service's listener and target group; the shared ALB stays."""
    found = find_route(settings, elb, service, environment)
    if found is None:
        return False
    group, listener = found
    if listener:
        elb.delete_listener(ListenerArn=listener)
    elb.delete_target_group(TargetGroupArn=group)
    _remove_idle_load_balancer(settings, elb, environment)
    return True


def _remove_idle_load_balancer(settings: Settings, elb, environment: str) -> None:
    """An ALB costs money while it stands: the last service of the environment takes it."""
    balancer = find_load_balancer(settings, elb, environment)
    if balancer is None:
        return
    Owner(settings, "", environment).load_balancer(elb, balancer)
    if not elb.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]:
        elb.delete_load_balancer(LoadBalancerArn=balancer["LoadBalancerArn"])
