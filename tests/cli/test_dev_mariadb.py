"""The MariaDB `shipmate dev` runs: reachable at the URL it gives, and it keeps its data."""

from __future__ import annotations

import shutil
import stat
import subprocess
from urllib.parse import urlsplit

import pymysql

from cli import dev_mariadb, devstack
from shipmate.ports import port_open
from testkit.waiting import eventually_sync

MARIADBD = "/usr/sbin/mariadbd"


def connect(url: str) -> pymysql.Connection:
    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname,
        port=parts.port,
        user=parts.username,
        password=parts.password,
        autocommit=True,
    )


def test_its_tables_outlive_a_restart_and_its_password_stays_private(tmp_path):
    port = devstack.free_port()
    url = dev_mariadb.admin_url(tmp_path, port)
    try:
        with devstack.LocalStack(echo=lambda line: None) as stack:
            stack.start(dev_mariadb.mariadb_part(tmp_path, port), timeout=60)
            with connect(url) as conn, conn.cursor() as cursor:
                cursor.execute("CREATE DATABASE kept")
                cursor.execute("CREATE TABLE kept.notes (title VARCHAR(40))")
                cursor.execute("INSERT INTO kept.notes VALUES ('still here')")
        assert not port_open(port)  # stopped, not left behind

        with devstack.LocalStack(echo=lambda line: None) as stack:
            part = stack.start(dev_mariadb.mariadb_part(tmp_path, port), timeout=60)
            with connect(dev_mariadb.admin_url(tmp_path, port)) as conn, conn.cursor() as cursor:
                cursor.execute("SELECT title FROM kept.notes")
                assert cursor.fetchall() == (("still here",),)
                cursor.execute("SELECT @@port")
                assert cursor.fetchone() == (port,)  # its own server, not the system's
        assert part.process.returncode == 0  # a clean shutdown, not a kill
        assert stat.S_IMODE((tmp_path / "mariadb.password").stat().st_mode) == 0o600
        data = dev_mariadb.SERVER.data_dir(tmp_path)
        assert not (data.parent / f".{data.name}-init").exists()  # the SQL with the password
    finally:
        shutil.rmtree(dev_mariadb.SERVER.data_dir(tmp_path), ignore_errors=True)


def test_a_system_server_on_3306_is_left_alone(tmp_path):
    """The dev MariaDB has its own port, socket and pid file: starting and stopping it
    neither restarts nor blocks the machine's server on 3306 and its default socket."""
    system = _system_server()
    try:
        with connect("mysql://root@127.0.0.1:3306") as conn, conn.cursor() as cursor:
            cursor.execute("SELECT @@socket, @@pid_file")
            socket_path, pid_file = cursor.fetchone()
            before = _uptime(cursor)
        port = devstack.free_port()
        with devstack.LocalStack(echo=lambda line: None) as stack:
            stack.start(dev_mariadb.mariadb_part(tmp_path, port), timeout=60)
            with connect(dev_mariadb.admin_url(tmp_path, port)) as conn, conn.cursor() as cursor:
                cursor.execute("SELECT @@port, @@socket, @@pid_file")
                own_port, own_socket, own_pid_file = cursor.fetchone()
        assert own_port == port
        assert own_socket != socket_path and own_pid_file != pid_file

        with pymysql.connect(unix_socket=socket_path, user="root") as conn:
            with conn.cursor() as cursor:
                assert _uptime(cursor) >= before  # the same server, never restarted
        assert port_open(3306)
    finally:
        shutil.rmtree(dev_mariadb.SERVER.data_dir(tmp_path), ignore_errors=True)
        if system:
            system()


def _uptime(cursor) -> int:
    cursor.execute("SHOW GLOBAL STATUS LIKE 'Uptime'")
    return int(cursor.fetchone()[1])


def _system_server():
    """The machine's MariaDB on 3306, started with the system's own configuration when it
    is not running (and then stopped again: the stop is returned)."""
    if port_open(3306):
        return None
    subprocess.run(
        ["start-stop-daemon", "--start", "--oknodo", "--background", "--exec", MARIADBD],
        check=True,
        timeout=30,
    )
    eventually_sync(lambda: port_open(3306), timeout=60, what="the system MariaDB on 3306")
    return lambda: subprocess.run(
        ["start-stop-daemon", "--stop", "--retry", "30", "--exec", MARIADBD], timeout=60
    )
