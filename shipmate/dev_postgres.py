"""The PostgreSQL that `shipmate dev` runs for the services it deploys locally.

A cluster of its own, initialised once in the state dir from Debian's packages and
listening on loopback only, so a user's machine needs no database server of its own:
deployed services get a database and role each on it (activities.deploy_targets.
local_databases). Its admin password is made once and kept in the state dir (0600).
PostgreSQL refuses to run as root, so under root it runs as the `postgres` user the
Debian package creates, with its files under /var/lib/shipmate (one cluster per state
dir), since that user cannot read a root-owned state dir.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import signal
import subprocess
from pathlib import Path

from shipmate.devstack import Part, PartFailed

ADMIN = "shipmate"
FIX = "apt-get install postgresql (deploy/setup-local.sh does it), or set SHIPMATE_POSTGRES_URL"


def data_dir(state_dir: Path) -> Path:
    if os.geteuid() != 0:
        return state_dir.resolve() / "postgres"
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
    return Path("/var/lib/shipmate") / f"postgres-{digest}"


def postgres_part(state_dir: Path, port: int) -> Part:
    data = data_dir(state_dir)
    if not (data / "PG_VERSION").exists():
        _initialise(data, _password(state_dir))
    argv = [
        _binary("postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-k",
        str(data),
    ]
    return Part(
        name="postgres",
        argv=argv,
        user=_server_user(),
        port=port,
        url=f"postgresql://127.0.0.1:{port} (services' databases, in {data})",
        fix=FIX,
        stop_signal=signal.SIGINT,  # SIGTERM would wait for every service to disconnect
    )


def admin_url(state_dir: Path, port: int) -> str:
    return f"postgresql://{ADMIN}:{_password(state_dir)}@127.0.0.1:{port}/postgres"


def _initialise(data: Path, password: str) -> None:
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    password_file = data.parent / f".{data.name}-init.pw"  # beside it: the server user reads it
    descriptor = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(password)
    user = _server_user()
    if user:
        shutil.chown(data, user, user)
        shutil.chown(password_file, user, user)
    argv = [
        _binary("initdb"),
        "-D",
        str(data),
        "-U",
        ADMIN,
        f"--pwfile={password_file}",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--encoding=UTF8",
        "--no-locale",
    ]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, user=user, group=user)
    finally:
        password_file.unlink(missing_ok=True)
    if done.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        why = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise PartFailed(f"postgres: initdb failed in {data}: {why}. Fix: {FIX}")


def _password(state_dir: Path) -> str:
    path = state_dir.resolve() / "postgres.password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def _binary(name: str) -> str:
    """Debian keeps the server's programs out of PATH, under /usr/lib/postgresql/<major>."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True
    )
    for directory in versions:
        if (directory / name).exists():
            return str(directory / name)
    found = shutil.which(name)
    if found is None:
        raise PartFailed(f"postgres: {name} is not installed. Fix: {FIX}")
    return found


def _server_user() -> str | None:
    return "postgres" if os.geteuid() == 0 else None
