"""Signing in to the registry a service image is pushed to.

A loopback or self-run registry needs nothing. Amazon ECR needs a token (they last
12 hours, so one is fetched per push rather than kept) and the repository to exist
before the first push; both come from the worker's AWS credentials, so no registry
password is configured anywhere. On ECR a service's repository is
`shipmate-<installation>/<service>`: the worker's IAM policy reaches only its own
installation's repositories, and two installations (or anything else in the account
named like a service) never share one.
"""

from __future__ import annotations

import base64
import re

import boto3

from shipmate.settings import Settings

INSTALLATION = "shipmate.installation"
ECR_HOST = re.compile(r"^\d{12}\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


def is_ecr(registry: str) -> bool:
    return ECR_HOST.fullmatch(registry) is not None


class RepositoryNotOurs(RuntimeError):
    """An ECR repository with this installation's name that this installation did not make."""


def registry_repository(settings: Settings, repository: str, installation: str | None) -> str:
    """Where `repository` (a service's image name) goes in the registry:
    `shipmate-<installation>/<repository>` on ECR, the bare name on any other."""
    if not is_ecr(settings.registry):
        return repository
    if not installation:
        raise ValueError("an ECR repository is named after the installation: none was given")
    return f"shipmate-{installation}/{repository}"


def push_credentials(
    settings: Settings, repository: str, installation: str | None
) -> dict[str, str] | None:
    """Docker `auth_config` for pushing the service image `repository`; None when the
    registry needs none. On ECR its repository is made (or found, and checked to be this
    installation's) first."""
    match = ECR_HOST.fullmatch(settings.registry)
    if match is None:
        return None
    ecr = boto3.client("ecr", region_name=match["region"], endpoint_url=settings.aws_endpoint_url)
    name = registry_repository(settings, repository, installation)
    # the labels of activities/deploy_targets/naming.py (which imports this module's users)
    ours = {"managed-by": "shipmate", INSTALLATION: installation, "shipmate.service": repository}
    try:
        ecr.create_repository(
            repositoryName=name,
            imageScanningConfiguration={"scanOnPush": True},
            tags=[{"Key": key, "Value": value} for key, value in ours.items()],
        )
    except ecr.exceptions.RepositoryAlreadyExistsException:
        _check_ours(ecr, name, ours)
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    username, password = base64.b64decode(token).decode().split(":", 1)
    return {"username": username, "password": password}


def _check_ours(ecr, name: str, ours: dict[str, str]) -> None:
    """A repository found under our name must carry our installation's tags: an image is
    never pushed over one somebody else made."""
    (found,) = ecr.describe_repositories(repositoryNames=[name])["repositories"]
    listed = ecr.list_tags_for_resource(resourceArn=found["repositoryArn"])["tags"]
    tags = {t["Key"]: t["Value"] for t in listed}
    if tags.get(INSTALLATION) != ours[INSTALLATION]:
        owner = tags.get(INSTALLATION, "nothing")
        raise RepositoryNotOurs(
            f"the ECR repository {name} was not made by this installation (its "
            f"{INSTALLATION} tag is {owner}): delete or rename it, or check "
            "SHIPMATE_INSTALLATION"
        )
