"""Signing in to the registry before a push: nothing for a loopback registry; for Amazon
ECR (moto in server mode here) the repository is made and a fresh token fetched."""

from __future__ import annotations

import uuid

import boto3

from activities.registry_login import is_ecr, push_credentials

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def test_a_loopback_registry_needs_no_sign_in(settings):
    assert not is_ecr(settings.registry)
    assert push_credentials(settings, "todo-api") is None


def test_ecr_gets_the_repository_and_a_fresh_token_for_every_push(settings):
    on_ecr = settings.model_copy(update={"registry": ECR})
    repository = f"orders-{uuid.uuid4().hex[:6]}"
    first = push_credentials(on_ecr, repository)
    assert first["username"] == "AWS" and first["password"]
    ecr = boto3.client("ecr", region_name="us-east-1", endpoint_url=settings.aws_endpoint_url)
    (made,) = ecr.describe_repositories(repositoryNames=[repository])["repositories"]
    assert made["imageScanningConfiguration"] == {"scanOnPush": True}
    again = push_credentials(on_ecr, repository)  # the repository exists by now
    assert again["username"] == "AWS"


def test_only_ecr_hosts_count_as_ecr():
    assert is_ecr(ECR)
    assert is_ecr("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")
    assert not is_ecr("ecr.example.com")
    assert not is_ecr("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example")
