"""`shipmate dev` encrypts payloads with a key of its own, made once and kept.

A key made afresh at every start would leave the histories of the previous run
unreadable, and a key readable by others would not be a secret: the key file is made
once with mode 0600 and reused. What the dev stack's worker and bot are given
(`devstack.dev_environment`) and what a command line next to a running stack reads
(`shipmate doctor` here) must be that key; `shipmate doctor` says whether payloads are
encrypted, naming the key id, never the key.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from pydantic import SecretStr

from cli import devstack, identity
from cli.dev_payload_key import KEY_FILE
from cli.doctor_payloads import payload_check
from shipmate.payload_codec import new_key
from shipmate.settings import Settings
from shipmate.temporal import data_converter


def doctor(tmp_path, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "SHIPMATE_PAYLOAD_KEYS"}
    environment.update(SHIPMATE_STATE_DIR=str(tmp_path), **env)
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "doctor"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    (line,) = [line for line in result.stdout.splitlines() if " payloads " in line]
    return line


async def test_the_dev_key_is_made_once_private_and_reused(tmp_path):
    """First start: the key file appears, 0600. Second start: the same key, so what the
    first run's worker sealed, the second run's worker opens."""
    settings = Settings(state_dir=tmp_path)
    first = devstack.dev_environment(settings)["SHIPMATE_PAYLOAD_KEYS"]
    key_file = tmp_path / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    made = key_file.stat().st_mtime_ns

    second = devstack.dev_environment(settings)["SHIPMATE_PAYLOAD_KEYS"]
    assert second == first
    assert key_file.stat().st_mtime_ns == made

    first_run = data_converter(Settings(payload_keys=SecretStr(first)))
    second_run = data_converter(Settings(payload_keys=SecretStr(second)))
    sealed = await first_run.encode(["build a todo api"])
    assert sealed[0].metadata["encoding"] == b"binary/encrypted"
    assert await second_run.decode(sealed, [str]) == ["build a todo api"]


def test_a_widened_key_file_is_made_private_again(tmp_path):
    settings = Settings(state_dir=tmp_path)
    keys = devstack.dev_environment(settings)["SHIPMATE_PAYLOAD_KEYS"]
    (tmp_path / KEY_FILE).chmod(0o644)
    assert devstack.dev_environment(settings)["SHIPMATE_PAYLOAD_KEYS"] == keys
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600


def test_configured_keys_win_over_the_dev_key(tmp_path):
    keys = new_key("team-2025")
    settings = Settings(state_dir=tmp_path, payload_keys=SecretStr(keys))
    assert devstack.dev_environment(settings)["SHIPMATE_PAYLOAD_KEYS"] == keys
    assert not (tmp_path / KEY_FILE).exists()


def test_the_command_line_beside_a_running_dev_stack_uses_its_key(tmp_path):
    """With the stack's marker held (as `shipmate dev` holds it), a command line reads
    the stack's key; with no stack running, payloads are plain and doctor says so."""
    settings = Settings(state_dir=tmp_path)
    keys = devstack.dev_environment(settings)["SHIPMATE_PAYLOAD_KEYS"]
    key_id, _, secret = keys.partition(":")
    with identity.running_dev_stack(settings):
        line = doctor(tmp_path)
    assert f"ok      payloads       encrypted (AES-GCM) with key id {key_id}" in line
    assert secret not in line
    assert "plain outside `shipmate dev`" in doctor(tmp_path)


def test_doctor_names_the_key_in_use_and_warns_when_a_real_temporal_is_plain(tmp_path):
    rotated = f"{new_key('k2025')},{new_key('k2024')}"
    line = doctor(tmp_path, SHIPMATE_PAYLOAD_KEYS=rotated)
    assert "encrypted (AES-GCM) with key id k2025; 1 older key(s) still decrypt" in line
    for entry in rotated.split(","):
        assert entry.partition(":")[2] not in line
    # a cluster of one's own without a key: a warning with the way to make one
    check = payload_check(Settings(state_dir=tmp_path), own_temporal=True)
    assert not check.ok and not check.essential
    assert "not encrypted" in check.detail
    assert "SHIPMATE_PAYLOAD_KEYS=" in check.fix and "shipmate codec-server" in check.fix
