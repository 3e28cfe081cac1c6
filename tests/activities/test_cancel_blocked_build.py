"""A cancel reaches a real stage blocked in a Docker build that prints nothing.

Temporal hands a sync stage its cancel by raising in the stage's thread, which happens
only once that thread runs Python again; a build step that is silent for minutes would
hold it there. The heartbeat thread hangs up the build's stream when the cancel comes
(README: "running stages are cancelled through heartbeats"): the stage ends cancelled,
and the engine stops the step it was running.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from datetime import timedelta

import docker
import pytest
from temporalio.exceptions import CancelledError
from temporalio.testing import ActivityEnvironment

from activities import images
from activities.heartbeats import keeps_heartbeating, progress
from testkit.waiting import eventually_sync


def running_steps(marker: str) -> list:
    """The build's own containers (a RUN step's), found by the marker in their command."""
    engine = docker.from_env()
    return [c for c in engine.containers.list() if marker in " ".join(c.attrs["Config"]["Cmd"])]


def test_a_cancel_stops_a_build_blocked_in_a_silent_step(settings, docker_ready, tmp_path):
    marker = f"silent-{uuid.uuid4().hex[:8]}"
    (tmp_path / "Dockerfile").write_text(
        f"ARG BASE_IMAGE\nFROM $BASE_IMAGE AS slow\nRUN echo {marker} && sleep 600\n"
    )
    beats: list[str] = []

    @keeps_heartbeating
    def build() -> str:
        return images.build_image(settings, tmp_path, f"{marker}:v1", "slow", progress)

    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(environment.info, heartbeat_timeout=timedelta(seconds=2))
    environment.on_heartbeat = beats.append
    ended: list[BaseException] = []

    def run() -> None:
        try:
            environment.run(build)
        except BaseException as exc:  # what the stage ended with, for the test to read
            ended.append(exc)

    stage = threading.Thread(target=run, daemon=True)
    stage.start()
    eventually_sync(lambda: running_steps(marker), interval=0.5, what="the silent step to run")
    # While blocked, the beat repeats the step the build reached (once reported, then again).
    step = f"slow image, step 3/3: RUN echo {marker} && sleep 600"
    eventually_sync(lambda: beats.count(step) >= 2, interval=0.5, what="the step repeated")

    environment.cancel()

    stage.join(timeout=120)
    assert not stage.is_alive(), "the stage still blocks after its cancel"
    assert len(ended) == 1 and isinstance(ended[0], CancelledError), ended
    eventually_sync(lambda: running_steps(marker) == [], interval=0.5, what="the step to stop")
    with pytest.raises(docker.errors.ImageNotFound):
        docker.from_env().images.get(f"{marker}:v1")
