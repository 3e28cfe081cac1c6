"""Images: the offline base image, the wheelhouse, building and pushing service images.

No image can be pulled on an air-gapped machine, so the base image is made from a
Debian mirror with debootstrap, and Python packages come from a wheelhouse filled on
the host with `pip download`: the build itself never needs the network.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import logging
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import docker
from docker.errors import BuildError, DockerException, ImageNotFound

from activities import registry_login
from activities.heartbeats import interrupt_on_cancel
from shipmate.settings import Settings

log = logging.getLogger(__name__)

BASE_PACKAGES = "python3,python3-venv,python3-pip,ca-certificates"
WHEEL_DOWNLOAD_TIMEOUT = 600  # seconds for one requirements file
BASE_IMAGE_TIMEOUT = 1800  # seconds for debootstrap, and again for `docker import`
# A build's progress is its step ("Step 3/9 : RUN ..." from the builder without BuildKit);
# a push's, its layers: each is announced ("Preparing", "Waiting") and ends in the registry.
STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)")
LAYER_STATES = ("Preparing", "Waiting", "Pushing", "Pushed", "Layer already exists", "Mounted")
LAYER_DONE = ("Pushed", "Layer already exists", "Mounted")


class ImageBuildFailed(Exception):
    """The service's Dockerfile failed; carries the build log's tail for the person."""

    def __init__(self, message: str, log_tail: str):
        super().__init__(message)
        self.log_tail = log_tail


def docker_client(settings: Settings) -> docker.DockerClient:
    """The worker's Docker engine: one client per process, as a new one asks the engine
    for its API version first (15 ms, at every call of every stage). Its pool holds a
    connection for each of the stages the worker runs at once."""
    return _engine(settings.docker_host)


@functools.cache
def _engine(docker_host: str | None) -> docker.DockerClient:
    if docker_host:
        engine = docker.DockerClient(base_url=docker_host, timeout=600, max_pool_size=32)
    else:
        engine = docker.from_env(timeout=600, max_pool_size=32)
    engine.api.hooks["response"].append(_keep_response)
    return engine


_streams = threading.local()  # the responses a thread asked to keep (_hung_up_on_cancel)


def _keep_response(response, *args, **kwargs):
    kept = getattr(_streams, "kept", None)
    if kept is not None:
        kept.append(response)
    return response


@contextlib.contextmanager
def _hung_up_on_cancel():
    """A cancel of the stage hangs up the engine's streamed answer (a build, a push):
    the read blocked on it returns, the stage sees its cancellation, and the engine
    stops the work its caller went away from."""
    kept: list = []
    _streams.kept = kept
    try:
        with interrupt_on_cancel(lambda: [_hang_up(response) for response in kept]):
            yield
    finally:
        _streams.kept = None


def _hang_up(response) -> None:
    connection = getattr(response.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        sock.shutdown(socket.SHUT_RDWR)


def image_present(settings: Settings, image: str) -> bool:
    try:
        docker_client(settings).images.get(image)
        return True
    except ImageNotFound:
        return False


def base_image_present(settings: Settings) -> bool:
    return image_present(settings, settings.base_image)


def build_base_image(settings: Settings, echo: Callable[[str], None] = print) -> None:
    """debootstrap a minimal Debian with Python, then `docker import` it (about a minute)."""
    if not shutil.which("debootstrap"):
        raise RuntimeError("debootstrap is missing: apt-get install -y debootstrap")
    with tempfile.TemporaryDirectory(prefix="shipmate-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        echo(f"debootstrap bookworm from {settings.debian_mirror} (about a minute)")
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={BASE_PACKAGES}",
                "bookworm",
                str(rootfs),
                settings.debian_mirror,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=BASE_IMAGE_TIMEOUT,
        )
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (rootfs / cache).glob("*"):
                if item.is_file():
                    item.unlink()
        echo(f"docker import -> {settings.base_image}")
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        try:
            subprocess.run(
                [
                    "docker",
                    "import",
                    "--change",
                    'CMD ["python3"]',
                    "--change",
                    "ENV LANG=C.UTF-8",
                    "-",
                    settings.base_image,
                ],
                stdin=tar.stdout,
                check=True,
                stdout=subprocess.DEVNULL,
                timeout=BASE_IMAGE_TIMEOUT,
            )
            tarred = tar.wait(timeout=60)  # the import read it all: tar is done or nearly
        finally:
            if tar.poll() is None:  # the import failed or timed out: nobody reads tar now
                tar.kill()
                tar.wait(timeout=10)
        if tarred != 0:
            raise RuntimeError("tar of the base image root file system failed")


def fill_wheelhouse(settings: Settings, requirement_files: list[Path]) -> Path:
    """Download wheels for the image's Python into the cache; a no-op once they are there."""
    wheelhouse = settings.wheelhouse_dir.resolve()
    wheelhouse.mkdir(parents=True, exist_ok=True)
    for requirements in requirement_files:
        stamp = wheelhouse / f".{_digest(requirements.read_bytes())}.done"
        if stamp.exists():
            continue
        with _filling(wheelhouse):
            if not stamp.exists():  # another worker on this host filled it meanwhile
                _download_wheels(settings, wheelhouse, requirements)
                stamp.touch()
    return wheelhouse


@contextlib.contextmanager
def _filling(wheelhouse: Path):
    """One download at a time per host: workers sharing the wheelhouse would otherwise
    read each other's half-written wheels."""
    with open(wheelhouse / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _download_wheels(settings: Settings, wheelhouse: Path, requirements: Path) -> None:
    version = settings.wheelhouse_python.replace(".", "")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--python-version",
            version,
            "--implementation",
            "cp",
            "--platform",
            "manylinux_2_28_x86_64",
            "--platform",
            "manylinux2014_x86_64",
            "--platform",
            "manylinux_2_17_x86_64",
            "--platform",
            "any",
            "-d",
            str(wheelhouse),
            "-r",
            str(requirements),
        ],
        capture_output=True,
        text=True,
        timeout=WHEEL_DOWNLOAD_TIMEOUT,  # a package index that hangs fails the stage
    )
    if result.returncode != 0:
        raise RuntimeError("pip download for the wheelhouse failed: " + result.stderr[-1500:])


def prepare_build_context(settings: Settings, project: Path) -> None:
    """Put the wheelhouse into the build context (hard links: cheap) when configured to."""
    target = project / "wheelhouse"
    target.mkdir(exist_ok=True)
    for old in target.glob("*.whl"):
        old.unlink()
    if not settings.use_wheelhouse:
        return
    wheelhouse = fill_wheelhouse(
        settings, [project / "requirements.txt", project / "requirements-dev.txt"]
    )
    for wheel in wheelhouse.glob("*.whl"):
        try:
            (target / wheel.name).hardlink_to(wheel)
        except OSError:
            shutil.copy2(wheel, target / wheel.name)


def build_image(
    settings: Settings, project: Path, tag: str, target: str, heartbeat: Callable[[str], None]
) -> str:
    """Build one stage of the service's Dockerfile; returns the image id."""
    client = docker_client(settings)
    lines: list[str] = []
    try:
        with _hung_up_on_cancel():
            return _build(client, project, tag, target, settings, heartbeat, lines)
    except BuildError as exc:
        message = f"docker build of {tag} failed: {exc.msg}"
        if not base_image_present(settings):
            message += (
                f" (base image {settings.base_image} is not on this Docker engine: "
                "run `shipmate doctor --fix` or set SHIPMATE_BASE_IMAGE)"
            )
        raise ImageBuildFailed(message, tail(lines)) from None
    except DockerException as exc:
        raise ImageBuildFailed(f"docker build of {tag} failed: {exc}", tail(lines)) from None


def _build(client, project: Path, tag: str, target: str, settings, heartbeat, lines) -> str:
    stream = client.api.build(
        path=str(project),
        tag=tag,
        target=target,
        rm=True,
        forcerm=True,
        decode=True,
        buildargs={"BASE_IMAGE": settings.base_image},
    )
    image_id = None
    for chunk in stream:
        if "stream" in chunk:
            line = chunk["stream"].rstrip()
            if line:
                lines.append(line)
                if step := STEP.match(line):  # a step's own output is no progress
                    heartbeat(f"{target} image, step {step[1]}/{step[2]}: {step[3][:120]}")
        if "error" in chunk:
            lines.append(chunk["error"].rstrip())
            raise BuildError(chunk["error"], lines)
        if "aux" in chunk and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
    if image_id is None:
        image_id = client.images.get(tag).id
    return image_id


def has_stage(project: Path, stage: str) -> bool:
    """Whether the project's Dockerfile names a stage (older scaffolds lack newer ones)."""
    named = re.compile(rf"^FROM\s+\S+\s+AS\s+{re.escape(stage)}\s*$", re.I | re.M)
    return named.search((project / "Dockerfile").read_text()) is not None


def test_deps_image(settings: Settings, project: Path, heartbeat: Callable[[str], None]) -> str:
    """The project's `test-deps` stage (its test dependencies, no sources), tagged by
    what it is made of: built once per set of requirements and base image, then shared
    by every service and version that has the same."""
    made_of = [
        (project / name).read_bytes()
        for name in ("Dockerfile", "requirements.txt", "requirements-dev.txt")
    ]
    try:
        base = docker_client(settings).images.get(settings.base_image).id
    except ImageNotFound:
        base = settings.base_image  # the build fails, and says how to fix it
    tag = "shipmate-test-deps:" + _digest(b"\0".join([*made_of, base.encode()]))
    if not image_present(settings, tag):
        build_image(settings, project, tag, "test-deps", heartbeat)
    return tag


def push_image(
    settings: Settings,
    image: str,
    heartbeat: Callable[[str], None],
    installation: str | None = None,
) -> str:
    """Tag for the registry and push; returns the pushed reference with its digest. On
    ECR the repository is the installation's (`shipmate-<installation>/<service>`)."""
    client = docker_client(settings)
    repository, tag = image.rsplit(":", 1)
    path = registry_login.registry_repository(settings, repository, installation)
    remote = f"{settings.registry}/{path}"
    client.images.get(image).tag(remote, tag)
    signed_in = registry_login.push_credentials(settings, repository, installation)
    digest = ""
    layers: dict[str, bool] = {}  # layer id -> in the registry
    with _hung_up_on_cancel():
        pushed = client.api.push(remote, tag=tag, stream=True, decode=True, auth_config=signed_in)
        for chunk in pushed:
            if "error" in chunk:
                raise RuntimeError(f"push of {remote}:{tag} failed: {chunk['error']}")
            if layer := chunk.get("id"):
                status = chunk.get("status", "")
                if layer in layers or status.startswith(LAYER_STATES):
                    was = layers.get(layer)
                    layers[layer] = status.startswith(LAYER_DONE)
                    if was != layers[layer]:
                        heartbeat(_pushed(remote, tag, layers))
            digest = chunk.get("aux", {}).get("Digest", digest)
    return f"{remote}:{tag}@{digest}" if digest else f"{remote}:{tag}"


def _pushed(remote: str, tag: str, layers: dict[str, bool]) -> str:
    return f"pushing {remote}:{tag}: {sum(layers.values())}/{len(layers)} layers in the registry"


def tail(lines: list[str], count: int = 30) -> str:
    return "\n".join(lines[-count:])


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]
