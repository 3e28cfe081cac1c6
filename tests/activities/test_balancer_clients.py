"""Behind a load balancer the sign-in throttle counts each client, not the balancer
(#29 item 10, its throttle part). It keyed on the connection's address, which behind a
balancer is the balancer's: five wrong passwords a minute from anyone locked the admin
out for everyone. uvicorn reads the client from X-Forwarded-For, but only from the
addresses FORWARDED_ALLOW_IPS trusts; the ECS deploy now trusts the VPC's ranges, where
the load balancer's addresses come from."""

from __future__ import annotations

import os
import uuid

import httpx

from tests.activities.test_ecs_deploy import aws, container_of, deploy, verify
from tests.activities.test_scaffold import generate, serving

SIGNING_IN = "a ledger api with jwt: wallets have owner"


def sign_in(base: str, password: str, client: str) -> int:
    return httpx.post(
        f"{base}/auth/token",
        data={"username": "admin", "password": password},
        headers={"X-Forwarded-For": client},
    ).status_code


def env_for(tmp_path, trusted: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/ledger.db",
        "JWT_SECRET": "a-ledger-secret-of-32-bytes-or-more",
        "FIRST_ADMIN_USERNAME": "admin",
        "FIRST_ADMIN_PASSWORD": "right-pw",
        "FORWARDED_ALLOW_IPS": trusted,
    }


def test_behind_a_trusted_balancer_one_client_s_wrong_passwords_lock_out_only_that_client(
    tmp_path,
):
    project = generate(SIGNING_IN, tmp_path / "service")
    # the test's connections come from 127.0.0.1: here, the balancer's range
    with serving(project, env_for(tmp_path, "127.0.0.0/8")) as base:
        assert [sign_in(base, "guess", "203.0.113.5") for _ in range(5)] == [401] * 5
        assert sign_in(base, "right-pw", "203.0.113.5") == 429  # the guesser waits
        assert sign_in(base, "right-pw", "198.51.100.7") == 200  # the admin does not


def test_a_forwarded_address_from_an_untrusted_peer_does_not_dodge_the_throttle(tmp_path):
    project = generate(SIGNING_IN, tmp_path / "service")
    # a balancer elsewhere: a client connecting directly cannot claim another address
    with serving(project, env_for(tmp_path, "10.9.0.0/16")) as base:
        assert [sign_in(base, "guess", f"203.0.113.{n}") for n in range(5)] == [401] * 5
        assert sign_in(base, "right-pw", "198.51.100.7") == 429


def test_an_ecs_service_trusts_the_forwarded_address_from_its_vpc_only(settings):
    service = f"ledger-{uuid.uuid4().hex[:6]}"
    deployed = deploy(settings, service, f"{settings.registry}/{service}:v1-abc")
    verify(settings, deployed)
    env = {e["name"]: e["value"] for e in container_of(settings, deployed)["environment"]}
    subnet = aws(settings, "ec2").describe_subnets(
        Filters=[{"Name": "default-for-az", "Values": ["true"]}]
    )["Subnets"][0]
    (vpc,) = aws(settings, "ec2").describe_vpcs(VpcIds=[subnet["VpcId"]])["Vpcs"]
    assert env["FORWARDED_ALLOW_IPS"] == vpc["CidrBlock"]
    assert "*" not in env["FORWARDED_ALLOW_IPS"]
