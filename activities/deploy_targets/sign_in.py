"""Where a service that signs people in through an OpenID Connect issuer finds it: the
issuer its environment trusts (SHIPMATE_OIDC_ISSUERS), the audience its tokens for the
service carry (SHIPMATE_OIDC_AUDIENCE, by default the service's name) and the claim that
holds the roles.

An environment without an issuer stops the deploy before anything changes, naming the
setting: the new version could sign nobody in. An issuer that does not answer is found
by the new version's /ready, which says why, and the version before keeps serving.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from activities.deploy_targets.base import DeployFailed
from shipmate.issuer_urls import LOOPBACK
from shipmate.settings import Settings
from workflows.stage_models import DeployInput


class IssuerMissing(DeployFailed):
    """No OpenID Connect issuer is set for the environment."""


def sign_in_environment(
    settings: Settings, request: DeployInput, reach: Callable[[str], str] | None = None
) -> dict[str, str]:
    """The OIDC_* settings the service runs with; none for a service that keeps its own
    passwords. `reach`: the issuer's address as the service reaches it, when it differs;
    None for a target away from the worker, which an issuer on its loopback is not."""
    if not request.oidc:
        return {}
    issuer = settings.oidc_issuers.get(request.environment)
    if not issuer:
        raise IssuerMissing(
            f"{request.service} signs people in through an OpenID Connect issuer, and "
            f"{request.environment} has none: add it to SHIPMATE_OIDC_ISSUERS "
            f'(e.g. {{"{request.environment}": "https://example.okta.com/oauth2/default"}}), '
            "then retry. Nothing was changed."
        )
    if reach is None and urlsplit(issuer).hostname in LOOPBACK:
        raise IssuerMissing(
            f"the issuer for {request.environment} ({issuer}) is on the worker's loopback, "
            f"which {request.service} cannot reach from {request.target.value}: give "
            "SHIPMATE_OIDC_ISSUERS its https address. Nothing was changed."
        )
    audience = settings.oidc_audience.replace("{service}", request.service)
    found = {
        "OIDC_ISSUER": issuer,
        "OIDC_AUDIENCE": audience.replace("{environment}", request.environment),
        "OIDC_ROLES_CLAIM": settings.oidc_roles_claim,
    }
    if reach is not None and (address := reach(issuer)) != issuer:
        found["OIDC_ISSUER_ADDRESS"] = address
    return found
