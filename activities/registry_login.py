"""Signing in to the registry a service image is pushed to.

A loopback or self-run registry needs nothing. Amazon ECR needs a token (they last
12 hours, so one is fetched per push rather than kept) and the repository to exist
before the first push; both come from the worker's AWS credentials, so no registry
password is configured anywhere.
"""

from __future__ import annotations

import base64
import re

import boto3

from shipmate.settings import Settings

ECR_HOST = re.compile(r"^\d{12}\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


def is_ecr(registry: str) -> bool:
    return ECR_HOST.fullmatch(registry) is not None


def push_credentials(settings: Settings, repository: str) -> dict[str, str] | None:
    """Docker `auth_config` for pushing `repository`; None when the registry needs none."""
    match = ECR_HOST.fullmatch(settings.registry)
    if match is None:
        return None
    ecr = boto3.client("ecr", region_name=match["region"], endpoint_url=settings.aws_endpoint_url)
    try:
        ecr.create_repository(
            repositoryName=repository,
            imageScanningConfiguration={"scanOnPush": True},
            tags=[{"Key": "shipmate.service", "Value": repository}],
        )
    except ecr.exceptions.RepositoryAlreadyExistsException:
        pass
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    username, password = base64.b64decode(token).decode().split(":", 1)
    return {"username": username, "password": password}
