"""A generated service, migrated and served by uvicorn for as long as a test or a
benchmark needs it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx

from cli import devstack
from testkit.waiting import eventually_sync


@contextlib.contextmanager
def serving(
    project: Path, env: dict[str, str], killed: bool = False, quiet: bool = False
) -> Iterator[str]:
    """The generated app, migrated and under uvicorn; its base URL once `/health` answers.
    At the end it is stopped, or `killed` (SIGKILL: nothing of it runs on). `quiet`: no
    uvicorn line per request, whose cost a benchmark would measure."""
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
    )
    port = devstack.free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--port",
                str(port),
                *(["--log-level", "warning"] if quiet else []),
            ],
            cwd=project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )

        def healthy() -> bool:
            if server.poll() is not None:
                output.seek(0)
                raise AssertionError(f"the service exited: {output.read().decode()[-3000:]}")
            try:
                return httpx.get(f"{base}/health").status_code == 200
            except httpx.TransportError:
                return False

        try:
            eventually_sync(healthy, interval=0.2, what=f"{base}/health")
            yield base
        finally:
            server.kill() if killed else server.terminate()
            server.wait()
