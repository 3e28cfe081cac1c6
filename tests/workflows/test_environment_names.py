"""Names never collide across (service, environment) pairs (#29 item 4, its names part).

Containers, roles, secrets files and AWS resources join installation, service and
environment with `-`, databases with `_`, and a service name may hold a hyphen. Before,
orders-api in staging and orders in api-staging shared one secrets file, one database
role and one RDS instance. An environment is now one short word, taken whole."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from activities.deploy_targets.naming import database_identifier, resource_name, secrets_file
from shipmate.settings import Settings
from workflows.models import RequestedChange
from workflows.spec import DeploySpec

REFUSED = [
    "api-staging",  # would share names with the service one hyphen shorter
    "production-eu",
    "prod\n",  # a trailing newline passed a `$` match
    "prod ",
    " prod",
    "Staging",
    "stag_ing",
    "",
    "2prod",
    "e" * 21,
    "prod/../../etc",
    "staging;drop",
]


@pytest.mark.parametrize("name", REFUSED)
def test_an_environment_that_is_not_one_short_word_is_refused_with_what_it_must_be(name):
    with pytest.raises(ValidationError, match="must be one short lowercase word"):
        DeploySpec(environments=["staging", name])
    with pytest.raises(ValidationError, match="must be one short lowercase word"):
        RequestedChange(request_text="roll back", environment=name)


@pytest.mark.parametrize("name", ["staging", "prod", "qa", "dev2", "e" * 20])
def test_one_short_word_is_an_environment(name):
    assert DeploySpec(environments=[name]).environments == [name]
    assert RequestedChange(request_text="roll back", environment=name).environment == name


def test_no_two_pairs_share_a_resource_a_database_or_a_secrets_file(tmp_path):
    settings = Settings(_env_file=None, state_dir=tmp_path, installation="inst1")
    services = ["orders", "orders-api", "orders-api-staging", "api", "a-b-c", "a-b", "a"]
    environments = ["staging", "api", "apistaging", "b", "c", "bc", "prod"]
    pairs = list(itertools.product(services, environments))
    for name_of in (resource_name, database_identifier):
        names = {name_of(settings, service, env): (service, env) for service, env in pairs}
        assert len(names) == len(pairs), name_of.__name__
    files = {secrets_file(settings, service, env) for service, env in pairs}
    assert len(files) == len(pairs)
