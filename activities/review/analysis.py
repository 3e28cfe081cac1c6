"""Run the analyzer on code Shipmate did not write: in the sandbox, as a stranger.

The reviewed code is only read, never run, but the tools that read it (a type checker
follows imports; a plugin could be named in a config file) are still kept from the
network, from root and from everything but /tmp, with limits on CPU, memory, pids and
time, like a generated service's tests (activities/sandbox). The analyzer image holds
the ecosystem's tools and the analyzer package; it is built once per set of those, from
the local base image and the wheelhouse, and shared by every review.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from docker.errors import DockerException
from docker.types import Mount

from activities import artifacts, images, sandbox
from activities.deploy_targets.naming import INSTALLATION, MANAGED_BY, installation_id
from shipmate.settings import Settings

HERE = Path(__file__).resolve().parent
IMAGE_DIR = HERE / "image"
ANALYZER_DIR = HERE / "analyzer"
CODE_DIR = "/code"
ANALYZE_SECONDS = 300  # the tools together; each has a limit of its own inside


class AnalysisFailed(Exception):
    """The analyzer could not run, or printed no report; says why, with its last lines.
    `again`: whether trying again may help (the Docker engine was away), or not (the
    code takes too long to read, the analyzer cannot read it)."""

    def __init__(self, message: str, again: bool = False):
        super().__init__(message)
        self.again = again


def analyzer_image(settings: Settings, heartbeat: Callable[[str], None]) -> str:
    """The analyzer image, tagged by what it is made of; built when missing."""
    parts = [IMAGE_DIR / "Dockerfile", IMAGE_DIR / "requirements.txt"]
    parts += sorted(p for p in ANALYZER_DIR.rglob("*.py") if "__pycache__" not in p.parts)
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.relative_to(HERE).as_posix().encode() + b"\0" + part.read_bytes())
    digest.update(settings.base_image.encode())
    tag = f"shipmate-reviewer:{digest.hexdigest()[:16]}"
    if images.image_present(settings, tag):
        return tag
    with tempfile.TemporaryDirectory(prefix="shipmate-reviewer-") as tmp:
        context = Path(tmp)
        shutil.copy2(IMAGE_DIR / "Dockerfile", context / "Dockerfile")
        shutil.copy2(IMAGE_DIR / "requirements.txt", context / "requirements.txt")
        shutil.copytree(
            ANALYZER_DIR, context / "analyzer", ignore=shutil.ignore_patterns("__pycache__")
        )
        wheels = context / "wheelhouse"
        wheels.mkdir()
        if settings.use_wheelhouse:
            house = images.fill_wheelhouse(settings, [context / "requirements.txt"])
            for wheel in house.glob("*.whl"):
                try:
                    (wheels / wheel.name).hardlink_to(wheel)
                except OSError:
                    shutil.copy2(wheel, wheels / wheel.name)
        images.build_image(settings, context, tag, "", heartbeat)
    return tag


def run_analyzer(
    settings: Settings, root: Path, heartbeat: Callable[[str], None], review: str
) -> dict:
    """The analyzer's SARIF for the code under root; `review` names the review, so two
    reviews of the same code never stop each other's container, and a retry finds its own."""
    heartbeat("analyzer image")
    image = analyzer_image(settings, heartbeat)
    client = images.docker_client(settings)
    name = sandbox.test_container_name(settings, f"review-{_digest(review)}")
    labels = {
        "shipmate.role": "review",
        MANAGED_BY: "shipmate",
        INSTALLATION: installation_id(settings),
    }
    started = time.monotonic()
    sandbox.remove_leftover(client, name)
    try:
        container = client.containers.create(
            image,
            command=[CODE_DIR],
            name=name,
            working_dir=CODE_DIR,
            mounts=[Mount(CODE_DIR, None, type="volume", labels=labels)],
            environment={"HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"},
            labels=labels,
            **sandbox.LOCKED_DOWN,
        )
        container.put_archive(CODE_DIR, artifacts.pack(root))
        container.start()
        while not sandbox.exited_within(container, 2.0):
            if time.monotonic() - started > ANALYZE_SECONDS:
                container.kill()
                raise AnalysisFailed(f"the analysis took over {ANALYZE_SECONDS}s and was stopped")
            heartbeat(f"analyzing: {int(time.monotonic() - started)}s")
        report = container.logs(stdout=True, stderr=False).decode(errors="replace")
        errors = container.logs(stdout=False, stderr=True).decode(errors="replace")
    except DockerException as exc:
        raise AnalysisFailed(f"Docker engine error: {exc}", again=True) from None
    finally:
        with sandbox.cancel_waits():
            try:
                sandbox.remove_leftover(client, name)
            except DockerException:
                pass
    try:
        return json.loads(report)
    except ValueError:
        raise AnalysisFailed(
            "the analyzer printed no report: " + images.tail(errors.splitlines(), 8)
        ) from None


def _digest(review: str) -> str:
    return hashlib.sha256(review.encode()).hexdigest()[:12]
