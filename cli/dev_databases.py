"""What the database servers `shipmate dev` runs share: where their files live, who
runs them, their admin password and their one-off initialisation.

PostgreSQL and MariaDB both refuse to run as root, so under root each runs as the user
its Debian package creates, with its files under /var/lib/shipmate (one directory per
state dir), since that user cannot read a root-owned state dir.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cli.devstack import Part, PartFailed

INIT_TIMEOUT = 300  # seconds for initdb or mariadb-install-db (a few, usually)


@dataclass(frozen=True)
class DevDatabase:
    name: str  # the part's name; its data dir's and its password file's too
    package_user: str  # made by its Debian package; runs it under root
    made: str  # what initialisation leaves in the data dir: while it is there, no re-run
    fix: str

    @property
    def user(self) -> str | None:
        return self.package_user if os.geteuid() == 0 else None

    def data_dir(self, state_dir: Path) -> Path:
        if os.geteuid() != 0:
            return state_dir.resolve() / self.name
        digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
        return Path("/var/lib/shipmate") / f"{self.name}-{digest}"

    def part(self, argv: list[str], port: int, scheme: str, data: Path, **extra) -> Part:
        return Part(
            name=self.name,
            argv=argv,
            user=self.user,
            port=port,
            url=f"{scheme}://127.0.0.1:{port} (services' databases, in {data})",
            fix=self.fix,
            **extra,
        )

    def password(self, state_dir: Path) -> str:
        """Made once and kept in the state dir (0600), so the admin URL survives restarts."""
        path = state_dir.resolve() / f"{self.name}.password"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_private(path, secrets.token_urlsafe(24), os.O_EXCL)
        return path.read_text().strip()

    def prepare(
        self,
        state_dir: Path,
        argv: Callable[[Path, Path], list[str]],
        secret: Callable[[str], str] = str,
    ) -> Path:
        """The data dir, made by `argv(data_dir, secret_file)` the first time.

        The secret (the admin password, or what `secret` makes of it) waits in a file
        beside the data dir, where the server user can read it, and is removed once the
        command is done; a failed run leaves no half-made data dir to pass for a made one.
        """
        data = self.data_dir(state_dir)
        if (data / self.made).exists():
            return data
        secret_file = data.parent / f".{data.name}-init"
        command = argv(data, secret_file)  # first: a missing program says so before any file
        data.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_private(secret_file, secret(self.password(state_dir)), os.O_TRUNC)
        if self.user:
            shutil.chown(data, self.user, self.user)
            shutil.chown(secret_file, self.user, self.user)
        program = Path(command[0]).name
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                user=self.user,
                group=self.user,
                timeout=INIT_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            shutil.rmtree(data, ignore_errors=True)
            why = f"{program} did not finish in {INIT_TIMEOUT}s in {data}"
            raise PartFailed(f"{self.name}: {why}. Fix: {self.fix}") from None
        finally:
            secret_file.unlink(missing_ok=True)
        if done.returncode != 0:
            shutil.rmtree(data, ignore_errors=True)
            lines = (done.stderr + done.stdout).strip().splitlines() or ["no output"]
            why = next((line for line in lines if "error" in line.lower()), lines[-1]).strip()
            raise PartFailed(f"{self.name}: {program} failed in {data}: {why}. Fix: {self.fix}")
        return data


def _write_private(path: Path, text: str, flag: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | flag, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)
