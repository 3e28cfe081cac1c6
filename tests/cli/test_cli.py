"""The `shipmate` command line as a person runs it: exit codes, messages, the dev stack."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

import httpx
import psycopg
import pymysql
import pytest

from cli import dev_mariadb, dev_postgres
from shipmate.ports import port_open
from shipmate.settings import Settings
from testkit.dev_stack import dev_environment

SHIPMATE = [sys.executable, "-m", "cli.main"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SHIPMATE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_plan_prints_the_spec_as_json():
    result = run("plan", "build a todo api with sqlite", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["spec"]["name"] == "todo-api"
    assert plan["spec"]["database"] == "sqlite"
    assert plan["questions"] == []
    assert "auth: none" in plan["defaults"]


def test_plan_asks_when_the_request_names_nothing_and_exits_2():
    result = run("plan", "hello shipmate")
    assert result.returncode == 2
    assert "question: What should the service manage?" in result.stdout


def test_deliver_refuses_an_unclear_request_before_starting_anything():
    result = run("deliver", "can you help me", env={"SHIPMATE_TEMPORAL_ADDRESS": "127.0.0.1:1"})
    assert result.returncode == 2
    assert "What should the service manage?" in result.stderr


def test_a_bad_setting_is_one_line_naming_the_variable():
    result = run("plan", "build a todo api", env={"SHIPMATE_TEMPORAL_UI_PORT": "eighty"})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("shipmate: SHIPMATE_TEMPORAL_UI_PORT:")


def test_unreachable_temporal_is_a_clear_error():
    result = run(
        "approve",
        "delivery/x/1",
        env={"SHIPMATE_TEMPORAL_ADDRESS": "127.0.0.1:1", "SHIPMATE_OPERATOR": "U0BOB"},
    )
    assert result.returncode == 1
    assert "cannot reach Temporal at 127.0.0.1:1 (SHIPMATE_TEMPORAL_ADDRESS)" in result.stderr
    assert "Traceback" not in result.stderr


def test_doctor_reports_this_machine_ready(docker_ready):
    result = run("doctor")
    assert result.returncode == 0, result.stdout
    assert "ok      docker engine" in result.stdout
    assert "ok      base image" in result.stdout


def test_dev_starts_every_part_and_ctrl_c_stops_them(tmp_path, docker_ready):
    env, ports = dev_environment(tmp_path, "shipmate-dev-test", "postgres", "mariadb")
    env["SHIPMATE_DEV_POSTGRES_PORT"] = str(ports["postgres"])
    env["SHIPMATE_DEV_MARIADB_PORT"] = str(ports["mariadb"])
    env.pop("SHIPMATE_POSTGRES_URL", None)
    env.pop("SHIPMATE_MYSQL_URL", None)
    dev = subprocess.Popen(
        [*SHIPMATE, "dev"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    lines = []
    try:
        deadline = time.monotonic() + 90
        for line in dev.stdout:
            lines.append(line.rstrip())
            if line.startswith("Ready.") or time.monotonic() > deadline:
                break
        output = "\n".join(lines)
        assert "Ready." in output, output
        started = ("temporal", "codec", "moto", "registry", "slack", "postgres", "mariadb")
        started += ("worker", "bot")
        for part in started:
            assert any(line.strip().startswith(f"{part} ") and "ready" in line for line in lines), (
                output
            )
        assert httpx.get(f"http://127.0.0.1:{ports['ui']}/").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{ports['registry']}/v2/").status_code == 200
        assert "Shipmate" in httpx.get(f"http://127.0.0.1:{ports['emulator']}/").text
        assert (tmp_path / "temporal.db").exists()
        # payloads are encrypted with the stack's key, which the Web UI's codec server holds
        assert stat.S_IMODE((tmp_path / "payload.key").stat().st_mode) == 0o600
        ui = {"Origin": f"http://127.0.0.1:{ports['ui']}"}
        plain = {"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "InRvZG8i"}
        codec = f"http://127.0.0.1:{ports['codec']}"
        sealed = httpx.post(f"{codec}/encode", json={"payloads": [plain]}, headers=ui).json()
        opened = httpx.post(f"{codec}/decode", json=sealed, headers=ui).json()
        assert sealed != {"payloads": [plain]} and opened == {"payloads": [plain]}
        # deployed services' databases live in a PostgreSQL of the stack's own
        admin = (tmp_path / "postgres.password").read_text()
        with psycopg.connect(
            f"postgresql://shipmate:{admin}@127.0.0.1:{ports['postgres']}/postgres"
        ) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("shipmate",)
        # and those asking for MySQL, in a MariaDB of its own beside the system's
        admin = (tmp_path / "mariadb.password").read_text()
        mariadb = pymysql.connect(
            host="127.0.0.1", port=ports["mariadb"], user="shipmate", password=admin
        )
        with mariadb, mariadb.cursor() as cursor:
            cursor.execute("SELECT @@port")
            assert cursor.fetchone() == (ports["mariadb"],)
    finally:
        dev.send_signal(signal.SIGINT)
        assert dev.wait(timeout=30) == 0
    for port in ports.values():
        assert not port_open(port)
    shutil.rmtree(dev_postgres.SERVER.data_dir(tmp_path), ignore_errors=True)
    shutil.rmtree(dev_mariadb.SERVER.data_dir(tmp_path), ignore_errors=True)


def test_settings_given_to_another_process_are_read_back_as_given(monkeypatch, tmp_path):
    """A worker or bot started with Settings.as_environment reads the same settings; a
    secret is refused rather than passed on masked."""
    given = Settings(
        temporal_address="10.0.0.5:7233",
        state_dir=tmp_path,
        local_ports="41000-41039",
        bot_port=4001,
        use_wheelhouse=False,
        temporal_api_key="key-that-must-not-travel",
    )
    names = ("temporal_address", "state_dir", "local_ports", "bot_port", "use_wheelhouse")
    for variable, value in given.as_environment(*names).items():
        monkeypatch.setenv(variable, value)
    read = Settings()
    assert {name: getattr(read, name) for name in names} == {
        name: getattr(given, name) for name in names
    }
    with pytest.raises(ValueError, match="masked"):
        given.as_environment("temporal_api_key")
