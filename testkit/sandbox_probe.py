"""A probe for the test sandbox, seen from inside: an image whose only command runs the
`look.py` a test hands in as its sources, as the sandbox copies a project's in. Shared
by the tests of the sandbox's limits and of its lock-down."""

from __future__ import annotations

import contextlib
import io
import tarfile
import uuid
from collections.abc import Iterator

import docker


@contextlib.contextmanager
def probe_image(base_image: str, name: str) -> Iterator[str]:
    """A built image tagged `name:<random>`, removed afterwards."""
    engine = docker.from_env()
    tag = f"{name}:{uuid.uuid4().hex[:6]}"
    dockerfile = (
        f"FROM {base_image}\n"
        "WORKDIR /probe\n"
        'CMD ["python3", "-c", "exec(open(\'/probe/look.py\').read())"]\n'
    )
    engine.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
    try:
        yield tag
    finally:
        engine.images.remove(tag, force=True)


def sources(script: str) -> bytes:
    """A tar holding look.py, as the sandbox copies a project's sources in."""
    data = script.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("look.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
