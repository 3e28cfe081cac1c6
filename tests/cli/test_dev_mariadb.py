"""The MariaDB `shipmate dev` runs: reachable at the URL it gives, and it keeps its data."""

from __future__ import annotations

import shutil
import stat
from urllib.parse import urlsplit

import pymysql

from cli import dev_mariadb, devstack
from shipmate.ports import port_open


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
