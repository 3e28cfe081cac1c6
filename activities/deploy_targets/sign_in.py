"""Where a service that signs people in through an OpenID Connect issuer finds it: the
issuer its environment trusts (SHIPMATE_OIDC_ISSUERS), with the service's own name as
the audience its tokens carry and the claim that holds the roles.

An environment without an issuer stops the deploy before anything changes, naming the
setting: the new version could sign nobody in. An issuer that does not answer is found
by the new version's /ready, which says why, and the version before keeps serving.
"""

from __future__ import annotations

from collections.abc import Callable

from activities.deploy_targets.base import DeployFailed
from shipmate.settings import Settings
from workflows.stage_models import DeployInput


class IssuerMissing(DeployFailed):
    """No OpenID Connect issuer is set for the environment."""


def sign_in_environment(
    settings: Settings, request: DeployInput, reach: Callable[[str], str] = lambda url: url
) -> dict[str, str]:
    """The OIDC_* settings the service runs with; none for a service that keeps its own
    passwords. `reach`: the issuer's address as the service reaches it, when it differs."""
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
    found = {
        "OIDC_ISSUER": issuer,
        "OIDC_AUDIENCE": request.service,
        "OIDC_ROLES_CLAIM": settings.oidc_roles_claim,
    }
    if (address := reach(issuer)) != issuer:
        found["OIDC_ISSUER_ADDRESS"] = address
    return found
