"""Where a load test may go, and how it signs in: from Shipmate's own records only.

A person names a service and an environment; the address comes from the service's
deployment record, and on the local target the router of this installation must serve
that pair at that address. A made-up name, an environment the service is not deployed
to, or a service another installation runs is refused before a single request is sent.
The load signs in as the service's first admin, whose password never leaves the worker.
"""

from __future__ import annotations

import json

import httpx
from temporalio.client import Client

from activities.deploy_targets.local_router import LocalRouter
from activities.deploy_targets.naming import secrets_file
from shipmate import delivery_client
from shipmate.settings import Settings
from workflows.environments import is_production
from workflows.optimize_models import LoadTarget, OptimizeRequest
from workflows.spec import Auth, DeployTarget

PREFERRED = ("staging", "qa", "dev")  # loaded when none is named


class TargetRefused(Exception):
    """Said as it is: what was asked cannot be loaded, and why."""


async def find_target(settings: Settings, client: Client, request: OptimizeRequest) -> LoadTarget:
    name = request.service
    state = await delivery_client.service_state(client, name)
    if state is None or state.current_spec is None:
        raise TargetRefused(f"I know no service called {name}: I only load services I deployed")
    deployed = state.deployments
    if not deployed:
        raise TargetRefused(f"{name} is not deployed anywhere yet: deploy it first")
    environment = request.environment or _preferred(list(deployed))
    if environment not in deployed:
        where = ", ".join(sorted(deployed))
        raise TargetRefused(f"{name} is not deployed to {environment}; it runs in {where}")
    deployment = deployed[environment]
    spec = next((s for s in state.specs if s.version == deployment.version), state.current_spec)
    if spec.deploy.target != DeployTarget.local:
        raise TargetRefused(
            f"{name} runs on {spec.deploy.target.value}: load tests reach only services on "
            "the local Docker target so far"
        )
    if spec.auth == Auth.oidc:  # its tokens come from the issuer, which I cannot ask
        raise TargetRefused(
            f"{name} signs people in through its OpenID Connect issuer, and I have no token "
            "of it: load tests reach services that are open or keep their own passwords"
        )
    served_here(settings, name, environment, deployment.url)
    seconds, users, said = _clamped(settings, request)
    return LoadTarget(
        service=name,
        environment=environment,
        url=deployment.url,
        version=deployment.version,
        database=spec.database.value,
        signs_in=spec.auth != Auth.none,
        seconds=seconds,
        users=users,
        seed_seconds=min(settings.load_seed_seconds, settings.load_max_seconds),
        said=said,
    )


def _preferred(environments: list[str]) -> str:
    """The environment loaded when none is named: never production while another exists."""
    for name in PREFERRED:
        if name in environments:
            return name
    others = sorted(e for e in environments if not is_production(e))
    return others[0] if others else sorted(environments)[0]


def served_here(settings: Settings, service: str, environment: str, url: str) -> None:
    """This installation's router serves the pair at the recorded address, now: checked
    again right before a load, since a production run may wait an hour for its yes."""
    serving = LocalRouter(settings).serving_address(service, environment)
    if serving is None:
        raise TargetRefused(
            f"{service} in {environment} is not served by this installation's router: "
            "nothing was sent to it"
        )
    if serving.rstrip("/") != url.rstrip("/"):
        raise TargetRefused(
            f"{service} in {environment} answers at another address than the one I deployed: "
            "nothing was sent to it"
        )


def _clamped(settings: Settings, request: OptimizeRequest) -> tuple[int, int, list[str]]:
    seconds = request.seconds or settings.load_seconds
    users = request.users or settings.load_users
    said = []
    if seconds > settings.load_max_seconds:
        said.append(f"{seconds} s asked; {settings.load_max_seconds} s is the most, so that")
        seconds = settings.load_max_seconds
    if users > settings.load_max_users:
        said.append(f"{users} users asked; {settings.load_max_users} is the most, so that")
        users = settings.load_max_users
    return seconds, users, said


def sign_in_headers(settings: Settings, target: LoadTarget) -> dict:
    """An admin's bearer token for a service that asks for one; {} for an open service."""
    if not target.signs_in:
        return {}
    path = secrets_file(settings, target.service, target.environment)
    try:
        stored = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}  # an open service keeps no sign-in; a closed one refuses and the run says so
    if "FIRST_ADMIN_PASSWORD" not in stored:
        return {}
    form = {
        "username": stored.get("FIRST_ADMIN_USERNAME", "admin"),
        "password": stored["FIRST_ADMIN_PASSWORD"],
    }
    try:
        answer = httpx.post(f"{target.url}/auth/token", data=form, timeout=15, trust_env=False)
    except httpx.HTTPError as exc:
        raise TargetRefused(
            f"{target.url} did not answer the sign-in: {type(exc).__name__}"
        ) from None
    if answer.status_code != 200:
        raise TargetRefused(
            f"{target.service} refused the sign-in of its first admin (HTTP {answer.status_code})"
        )
    try:
        token = answer.json()["access_token"]
    except (ValueError, KeyError, TypeError):
        raise TargetRefused(
            f"{target.service} answered its sign-in without an access_token: load tests sign "
            "in with POST /auth/token, as the services I build do"
        ) from None
    return {"Authorization": f"Bearer {token}"}
