"""A service that signs people in through an OpenID Connect issuer, deployed to the local
Docker engine: it takes the issuer's tokens for it (reaching an issuer on the machine's
loopback from its own network) and refuses others; an environment with no issuer is
refused before anything starts, naming the setting; a version whose issuer does not
answer is rolled back with the reason, and the version before keeps serving."""

from __future__ import annotations

import uuid

import httpx
import pytest
from temporalio.testing import ActivityEnvironment

from activities.deploy_targets import DeployFailed
from activities.stages import DeliveryActivities
from testkit.oidc import local_issuer_for
from tests.activities.test_local_deploys import _containers, deploy, tear_down
from workflows.spec import Auth, Database, EntitySpec, FieldSpec, ServiceSpec
from workflows.stage_models import ScaffoldInput


def clinic(version: int) -> ServiceSpec:
    fields = [FieldSpec(name="name")] + ([FieldSpec(name="ward", required=False)] * (version > 1))
    return ServiceSpec(
        name="clinic-api",
        database=Database.sqlite,
        auth=Auth.oidc,
        roles=["vet"],
        entities=[EntitySpec(name="Patient", fields=fields)],
        version=version,
    )


@pytest.fixture(scope="module")
def images(settings, docker_ready, tmp_path_factory) -> list[str]:
    built = []
    stages = DeliveryActivities(  # one disk: v2 follows v1's migrations
        settings.model_copy(update={"state_dir": tmp_path_factory.mktemp("clinic")})
    )
    run = ActivityEnvironment().run
    for version in (1, 2):
        scaffold = run(
            stages.scaffold_service, ScaffoldInput(spec=clinic(version), request_text="")
        )
        built.append(run(stages.build_service_image, scaffold).image)
    return built


@pytest.fixture()
def issuer(tmp_path):
    return local_issuer_for(clinic(1), tmp_path)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_issuers_tokens_sign_in_and_a_dead_issuer_rolls_the_next_version_back(
    settings, images, issuer
):
    service = f"clinic-{uuid.uuid4().hex[:5]}"
    trusting = settings.model_copy(update={"oidc_issuers": {"staging": issuer.url}})
    token = issuer.token("vet", aud=service)  # the audience is the service's name
    try:
        live = deploy(trusting, service, images[0], 1, Database.sqlite, oidc=True)
        with httpx.Client(base_url=live.url) as web:
            assert web.get("/auth/me", headers=bearer(token)).json() == {
                "subject": "vet-test",
                "roles": ["vet"],
            }
            made = web.post("/patients", json={"name": "Rex"}, headers=bearer(token))
            assert made.status_code == 201, made.text
            assert web.get("/patients").status_code == 401
            assert web.get("/patients", headers=bearer(issuer.token("vet"))).status_code == 401

        issuer.answering = False  # the next version cannot have the keys
        with pytest.raises(DeployFailed) as rolled_back:
            deploy(trusting, service, images[1], 2, Database.sqlite, oidc=True)
        said = str(rolled_back.value)
        assert "rolled back: v2 never became ready" in said
        assert "sign-in issuer unavailable" in said and "HTTP 503" in said
        assert "v1 keeps serving" in said
        # v1 has the keys already: an outage of its issuer signs nobody out
        listed = httpx.get(f"{live.url}/patients", headers=bearer(token))
        assert [p["name"] for p in listed.json()] == ["Rex"]
    finally:
        tear_down(settings, service, Database.sqlite)


def test_an_environment_without_an_issuer_is_refused_before_anything_starts(settings, images):
    service = f"clinic-{uuid.uuid4().hex[:5]}"
    elsewhere = settings.model_copy(update={"oidc_issuers": {"prod": "https://login.example.com"}})
    try:
        with pytest.raises(DeployFailed) as refused:
            deploy(elsewhere, service, images[0], 1, Database.sqlite, oidc=True)
        assert "staging has none" in str(refused.value)
        assert "SHIPMATE_OIDC_ISSUERS" in str(refused.value)
        assert _containers(settings, service) == []
    finally:
        tear_down(settings, service, Database.sqlite)
