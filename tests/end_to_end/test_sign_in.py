"""Sign-in through an OpenID Connect issuer with real parts: the Slack emulator, the bot,
Temporal, the worker's real stages and the local Docker target, with an issuer on the
worker's loopback (the one the service's own tests use). What a person checks: asking
for Okta SSO builds a service whose plan says so, and once live it takes the issuer's
tokens with their roles and refuses a request without one."""

from __future__ import annotations

import json

import httpx
import pytest

from activities.deploy_targets.local import LocalDocker
from activities.deploy_targets.local_router import LocalRouter
from testkit.chat import letters
from testkit.oidc import local_issuer_for
from tests.end_to_end.test_integrate import go_live
from tests.end_to_end.test_optimize import SLOW, slack_and_worker
from workflows.spec import Auth, EntitySpec, ServiceSpec
from workflows.stage_models import TeardownInput


@pytest.fixture()
def issuer(tmp_path):
    like = ServiceSpec(name="any-api", auth=Auth.oidc, entities=[EntitySpec(name="Patient")])
    return local_issuer_for(like, tmp_path)


async def test_an_okta_request_goes_live_taking_its_issuers_tokens(
    client, settings, docker_ready, issuer
):
    clinic = f"clinic{letters()}-api"
    trusting = settings.model_copy(update={"oidc_issuers": {"staging": issuer.url}})
    try:
        async with slack_and_worker(client, trusting) as (chat, local):
            ts = await chat.say(
                "U0ALICE",
                f"<@U0SHIPMATE> build {clinic} with sqlite and Okta SSO, roles: vet and clerk. "
                "patients have name. Only vets can delete patients",
            )
            said = "sign-in through your OpenID Connect issuer (vet, clerk)"
            await chat.wait_for(ts, lambda r: said in json.dumps(r), timeout=SLOW)
            await go_live(chat, ts)
            vet = {"Authorization": f"Bearer {issuer.token('vet', aud=clinic)}"}
            clerk = {"Authorization": f"Bearer {issuer.token('clerk', aud=clinic)}"}
            async with httpx.AsyncClient(
                base_url=LocalRouter(local).address(clinic, "staging")
            ) as web:
                me = await web.get("/auth/me", headers=vet)
                assert me.json() == {"subject": "vet-test", "roles": ["vet"]}
                made = await web.post("/patients", json={"name": "Rex"}, headers=clerk)
                assert made.status_code == 201, made.text
                assert (await web.get("/patients")).status_code == 401
                gone = f"/patients/{made.json()['id']}"
                assert (await web.delete(gone, headers=clerk)).status_code == 403
                assert (await web.delete(gone, headers=vet)).status_code == 204
    finally:
        LocalDocker().tear_down(
            settings, TeardownInput(service=clinic, environment="staging"), heartbeat=print
        )
