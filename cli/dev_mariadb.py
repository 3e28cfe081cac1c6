"""The MariaDB that `shipmate dev` runs for the services it deploys locally.

cli.dev_postgres's twin for specs that ask for MySQL: a server of its own from
Debian's `mariadb-server` package, its datadir initialised once in the state dir,
listening on loopback on its own port with its own socket and pid file, so it never
meets a system MariaDB on 3306. Deployed services get a database and a user each on it
(activities.deploy_targets.local_databases) through an admin user whose password is
made once and kept in the state dir (0600). mariadbd refuses root, so under root it
runs as the `mysql` user (cli.dev_databases says where its files go then).

It starts with `shipmate dev`, not on the first MySQL spec: in a chat-ops dev stack a
conversation may ask for MySQL at any moment, and that deploy should find a server that
is already up (or `shipmate dev` should have said at once why it could not start one).
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cli.dev_databases import DevDatabase
from cli.devstack import Part, PartFailed

ADMIN = "shipmate"
FIX = "apt-get install mariadb-server (deploy/setup-local.sh does it), or set SHIPMATE_MYSQL_URL"
SERVER = DevDatabase("mariadb", package_user="mysql", made="mysql", fix=FIX)


def mariadb_part(state_dir: Path, port: int) -> Part:
    data = SERVER.prepare(state_dir, _install_db, secret=_admin_sql)
    argv = [
        _binary("mariadbd", "mysqld"),
        "--no-defaults",  # /etc/mysql's files configure the system server: its port, socket
        f"--datadir={data}",
        f"--port={port}",
        "--bind-address=127.0.0.1",
        f"--socket={data / 'mariadbd.sock'}",
        f"--pid-file={data / 'mariadbd.pid'}",
        "--skip-name-resolve",  # grants name 127.0.0.1; no DNS lookup per connection
    ]
    return SERVER.part(
        argv,
        port,
        "mysql",
        data,
        noise=" [Note] ",  # it narrates every start and stop; warnings and errors still show
        stop_signal=signal.SIGTERM,  # its normal shutdown: flushes InnoDB, removes pid and socket
    )


def admin_url(state_dir: Path, port: int) -> str:
    return f"mysql://{ADMIN}:{SERVER.password(state_dir)}@127.0.0.1:{port}"


def connect(url: str, timeout: float = 3):
    """A connection to a server named by a `mysql://user:password@host:port` URL (PyMySQL,
    as local deploys use it: imported when needed, like the activities do)."""
    import pymysql

    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        autocommit=True,
        connect_timeout=timeout,
    )


def server_program() -> str:
    return _binary("mariadbd", "mysqld")


def _install_db(data: Path, sql_file: Path) -> list[str]:
    return [
        _binary("mariadb-install-db", "mysql_install_db"),
        "--no-defaults",
        f"--datadir={data}",
        "--skip-test-db",
        "--skip-name-resolve",
        f"--extra-file={sql_file}",
    ]


def _admin_sql(password: str) -> str:
    """Run by the installer in bootstrap mode, where the grant tables wait for FLUSH
    PRIVILEGES; the password is URL-safe, so it needs no quoting."""
    return (
        "FLUSH PRIVILEGES;\n"
        f"CREATE USER '{ADMIN}'@'127.0.0.1' IDENTIFIED BY '{password}';\n"
        f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN}'@'127.0.0.1' WITH GRANT OPTION;\n"
    )


def _binary(*names: str) -> str:
    """The server lives in /usr/sbin, outside a non-root PATH; older packages say mysqld."""
    for name in names:
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
        if found:
            return found
    raise PartFailed(f"mariadb: {names[0]} is not installed. Fix: {FIX}")
