"""The PostgreSQL that `shipmate dev` runs for the services it deploys locally.

A cluster of its own, initialised once in the state dir from Debian's packages and
listening on loopback only, so a user's machine needs no database server of its own:
deployed services get a database and role each on it (activities.deploy_targets.
local_databases). Its admin password is made once and kept in the state dir (0600);
under root it runs as the `postgres` user (cli.dev_databases says why and where).
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

from cli.dev_databases import DevDatabase
from cli.devstack import Part, PartFailed

ADMIN = "shipmate"
FIX = "apt-get install postgresql (deploy/setup-local.sh does it), or set SHIPMATE_POSTGRES_URL"
SERVER = DevDatabase("postgres", package_user="postgres", made="PG_VERSION", fix=FIX)


def postgres_part(state_dir: Path, port: int) -> Part:
    data = SERVER.prepare(state_dir, _initdb)
    argv = [
        _binary("postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-c",
        "listen_addresses=127.0.0.1",
        # per-statement timings, read by the optimizer (activities.optimize.postgres_findings)
        "-c",
        "shared_preload_libraries=pg_stat_statements",
        "-k",
        str(data),
    ]
    # SIGINT: SIGTERM would wait for every service to disconnect
    return SERVER.part(argv, port, "postgresql", data, stop_signal=signal.SIGINT)


def admin_url(state_dir: Path, port: int) -> str:
    return f"postgresql://{ADMIN}:{SERVER.password(state_dir)}@127.0.0.1:{port}/postgres"


def server_program() -> str:
    return _binary("postgres")


def _initdb(data: Path, password_file: Path) -> list[str]:
    return [
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
