"""An engine that fails a roll back's downgrade call is left to Temporal to try again.

Rolling back runs the newer version's migrations down in a container of their own
(activities.deploy_targets.local_downgrade.migrate_down); only alembic's own failure is the deploy's
verdict (tests/activities/test_local_deploys.py).
"""

from __future__ import annotations

import uuid

import docker
import pytest

from activities.deploy_targets import local_downgrade
from workflows.stage_models import DeployInput


def name() -> str:
    return f"notes-{uuid.uuid4().hex[:5]}"


def test_a_docker_error_around_the_migration_is_left_to_temporal_to_retry(settings, monkeypatch):
    class Engine:  # the engine fails the call itself: no migration ever ran
        class containers:
            @staticmethod
            def get(name):  # no earlier attempt's downgrade
                raise docker.errors.NotFound(name)

            @staticmethod
            def run(*args, **kwargs):
                raise docker.errors.APIError("500 Server Error: the engine is restarting")

    monkeypatch.setattr(local_downgrade, "docker_client", lambda settings: Engine)
    back = DeployInput(
        service=name(),
        environment="staging",
        image="notes-api:v1",
        version=1,
        migrate_down_with="notes-api:v2",
    )
    with pytest.raises(docker.errors.APIError):  # not DeployFailed, which is never retried
        local_downgrade.migrate_down(
            settings, back, "sqlite:////data/notes.db", {}, "bridge", heartbeat=print
        )
