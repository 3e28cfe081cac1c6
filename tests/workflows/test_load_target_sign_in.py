"""A load test of a service that signs people in through its OpenID Connect issuer is
refused in plain words before a request is sent: Shipmate has no token of that issuer,
and every request would be a 401 measured as if it were the service's speed."""

from __future__ import annotations

import pytest

from activities.optimize.target import TargetRefused, find_target
from shipmate import delivery_client
from tests.workflows.test_workflows import gate_open, start, until
from workflows.models import DeliveryState
from workflows.optimize_models import OptimizeRequest
from workflows.spec import Auth


async def test_a_service_signing_in_through_its_issuer_is_not_load_tested(client, fake):
    _, settings = fake
    handle, spec = await start(client, settings, "a notes api with okta sso: notes have title")
    assert spec.auth == Auth.oidc
    await until(handle, gate_open("staging"))
    await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
    assert (await handle.result()).state == DeliveryState.succeeded
    request = OptimizeRequest(service=spec.name, requester="U0ALICE")
    with pytest.raises(TargetRefused, match="signs people in through its OpenID Connect issuer"):
        await find_target(settings, client, request)
