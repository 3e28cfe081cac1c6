"""Images travel through the registry, not through one engine's cache.

With several workers, the push stage may run on a worker whose Docker engine never
built the image, and the deploy on one that never saw it either. Both are played here
on the one engine by removing the image between stages, as another engine would lack it.
"""

from __future__ import annotations

import uuid

import docker
import httpx
import pytest
from docker.errors import ImageNotFound
from temporalio.testing import ActivityEnvironment

from activities.deploy_targets.local import LocalDocker
from activities.stages import DeliveryActivities
from workflows.spec import EntitySpec, FieldSpec, ServiceSpec
from workflows.stage_models import DeployInput, ScaffoldInput, TeardownInput

LOCAL = LocalDocker()


def _forget(engine, *references: str) -> None:
    """What an engine that never built nor pulled the image looks like."""
    for reference in references:
        try:
            engine.images.remove(reference, force=True)
        except ImageNotFound:
            pass
    for reference in references:
        with pytest.raises(ImageNotFound):
            engine.images.get(reference)


def _tags_in_registry(settings, repository: str) -> list[str]:
    answer = httpx.get(f"http://{settings.registry}/v2/{repository}/tags/list", timeout=10)
    return answer.json().get("tags") or [] if answer.status_code == 200 else []


def test_a_push_without_the_image_builds_it_again_and_a_deploy_pulls_it(
    settings, docker_ready, tmp_path
):
    service = f"relay-{uuid.uuid4().hex[:5]}"
    spec = ServiceSpec(
        name=service, entities=[EntitySpec(name="Note", fields=[FieldSpec(name="title")])]
    )
    stages = DeliveryActivities(settings.model_copy(update={"state_dir": tmp_path}))
    run = ActivityEnvironment().run
    engine = docker.from_env()
    scaffold = run(stages.scaffold_service, ScaffoldInput(spec=spec, request_text=""))
    built = run(stages.build_service_image, scaffold)
    repository, tag = built.image.rsplit(":", 1)
    remote = f"{settings.registry}/{repository}:{tag}"
    _forget(engine, built.image, remote)

    pushed = run(stages.push_service_image, built)

    # built again from the artifact, with the same tag, and in the registry
    assert pushed.startswith(remote)
    assert engine.images.get(built.image)
    assert tag in _tags_in_registry(settings, repository)

    _forget(engine, built.image, remote)
    asked = DeployInput(
        service=service, environment="staging", image=built.image, pushed_image=pushed, version=1
    )
    try:
        deployed = LOCAL.deploy(settings, asked, lambda note: None)
        # the pushed reference came back into this engine, and the service answers
        assert engine.images.get(built.image)
        assert httpx.get(f"{deployed.url}/notes", timeout=10).status_code == 200
    finally:
        LOCAL.tear_down(
            settings, TeardownInput(service=service, environment="staging"), lambda note: None
        )


def test_a_deploy_without_the_image_or_a_pushed_reference_fails_with_the_image_named(
    settings, docker_ready
):
    """No registry copy to fall back on: the error names the image, nothing is started."""
    service = f"relay-{uuid.uuid4().hex[:5]}"
    missing = f"{service}:nowhere"
    asked = DeployInput(service=service, environment="staging", image=missing, version=1)
    with pytest.raises(ImageNotFound, match=missing):
        LOCAL.deploy(settings, asked, lambda note: None)
    engine = docker.from_env()
    assert engine.containers.list(all=True, filters={"label": f"shipmate.service={service}"}) == []
