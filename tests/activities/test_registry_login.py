"""Signing in to the registry before a push: nothing for a loopback registry; for Amazon
ECR (moto in server mode here) the installation's repository (`shipmate-<installation>/
<service>`) is made, or checked to be its own, and a fresh token fetched."""

from __future__ import annotations

import uuid

import boto3
import pytest

from activities.registry_login import (
    RepositoryNotOurs,
    is_ecr,
    push_credentials,
    registry_repository,
)

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def test_a_loopback_registry_needs_no_sign_in(settings):
    assert not is_ecr(settings.registry)
    assert push_credentials(settings, "todo-api", settings.installation) is None


def test_ecr_gets_the_repository_and_a_fresh_token_for_every_push(settings):
    on_ecr = settings.model_copy(update={"registry": ECR})
    repository = f"orders-{uuid.uuid4().hex[:6]}"
    first = push_credentials(on_ecr, repository, settings.installation)
    assert first["username"] == "AWS" and first["password"]
    ecr = boto3.client("ecr", region_name="us-east-1", endpoint_url=settings.aws_endpoint_url)
    named = f"shipmate-{settings.installation}/{repository}"
    assert registry_repository(on_ecr, repository, settings.installation) == named
    (made,) = ecr.describe_repositories(repositoryNames=[named])["repositories"]
    assert made["imageScanningConfiguration"] == {"scanOnPush": True}
    tags = ecr.list_tags_for_resource(resourceArn=made["repositoryArn"])["tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {
        "managed-by": "shipmate",
        "shipmate.installation": settings.installation,
        "shipmate.service": repository,
    }
    # the repository exists by now: found, and checked to be this installation's
    again = push_credentials(on_ecr, repository, settings.installation)
    assert again["username"] == "AWS"


def test_ecr_repositories_carry_the_installation_and_another_ones_is_refused(settings):
    """Two installations pushing the same service use two repositories; a repository
    under our name that another installation (or a person) made is never pushed to."""
    ecr = boto3.client("ecr", region_name="us-east-1", endpoint_url=settings.aws_endpoint_url)
    service = f"orders-{uuid.uuid4().hex[:6]}"
    ours = settings.model_copy(update={"registry": ECR})
    mine, other = settings.installation, f"t{uuid.uuid4().hex[:6]}"
    assert registry_repository(ours, service, mine) != registry_repository(ours, service, other)
    assert registry_repository(settings, service, mine) == service  # loopback: as it is
    made_by_hand = f"shipmate-{settings.installation}/{service}"
    ecr.create_repository(
        repositoryName=made_by_hand, tags=[{"Key": "shipmate.installation", "Value": "x"}]
    )
    with pytest.raises(RepositoryNotOurs, match=made_by_hand):
        push_credentials(ours, service, mine)
    assert push_credentials(ours, service, other)["username"] == "AWS"


def test_only_ecr_hosts_count_as_ecr():
    assert is_ecr(ECR)
    assert is_ecr("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")
    assert not is_ecr("ecr.example.com")
    assert not is_ecr("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example")
