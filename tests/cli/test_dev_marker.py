"""Only a live `shipmate dev` lets the command line act as anyone (#29 item 1). A marker
naming the stack's process by pid (and start time) let a marker left by a stack that
died, or one written by hand naming pid 1 (always alive; root in a container), let
`--approve-as` name anyone next to a real Temporal. Now each run makes a secret, kept in
its 0600 marker, and proves it on a socket in the state dir: HMAC-SHA256 of the asker's
nonce."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cli import dev_proof, identity
from shipmate.settings import Settings, SettingsError

ADDRESS = "127.0.0.1:7233"


@pytest.fixture()
def settings(tmp_path) -> Settings:
    return Settings(_env_file=None, state_dir=tmp_path, temporal_address=ADDRESS, operator="U0OPS")


def marker(settings: Settings) -> Path:
    return settings.state_dir / "dev-stack.json"


def written(settings: Settings, text: str, mode: int = 0o600) -> None:
    """A marker as someone other than the stack might write it."""
    path = marker(settings)
    path.unlink(missing_ok=True)
    path.write_text(text)
    path.chmod(mode)


def start_time(pid: int) -> str:
    """What the old marker named a process by: boot id and start time."""
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    return f"{boot}:{Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[19]}"


def refused(settings: Settings) -> None:
    assert not identity.under_dev_stack(settings)
    with pytest.raises(SettingsError, match="acts only as SHIPMATE_OPERATOR"):
        identity.acting_as(settings, "U0BOB", "--approve-as")


def test_a_live_dev_stack_lets_the_command_line_act_as_anyone(settings, capsys, caplog):
    with identity.running_dev_stack(settings):
        assert identity.under_dev_stack(settings)
        assert identity.acting_as(settings, "U0BOB", "--approve-as") == "U0BOB"
        secret = json.loads(marker(settings).read_text())["secret"]
        assert stat.S_IMODE(marker(settings).stat().st_mode) == 0o600
        sock = settings.state_dir / "dev-stack.sock"
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    refused(settings)  # gone with the stack
    assert not marker(settings).exists() and not sock.exists()
    out, err = capsys.readouterr()
    assert secret not in out + err + caplog.text


def test_a_marker_naming_a_live_process_without_its_stack_proves_nothing(settings):
    """pid 1 or this test's own pid, with their real start time, and a secret: no stack
    answers on the socket, so none is running."""
    for pid in (1, os.getpid()):
        fields = {"pid": pid, "started": start_time(pid), "temporal_address": ADDRESS}
        written(settings, json.dumps({**fields, "secret": "f" * 64}))
        refused(settings)


def test_a_socket_left_by_a_stack_that_died_proves_nothing(settings):
    with identity.running_dev_stack(settings):
        left = json.loads(marker(settings).read_text())
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(settings.state_dir / "dev-stack.sock"))  # a file nobody listens on
    sock.close()
    written(settings, json.dumps(left))
    refused(settings)
    with identity.running_dev_stack(settings):  # the next run starts over it
        assert identity.under_dev_stack(settings)


def test_a_marker_with_another_secret_while_a_stack_runs_proves_nothing(settings):
    with identity.running_dev_stack(settings):
        forged = {**json.loads(marker(settings).read_text()), "secret": "0" * 64}
        written(settings, json.dumps(forged))
        refused(settings)


def test_a_marker_copied_from_an_earlier_run_proves_nothing_once_a_new_one_runs(settings):
    with identity.running_dev_stack(settings):
        earlier = marker(settings).read_text()
    with identity.running_dev_stack(settings):
        written(settings, earlier)
        refused(settings)


def test_a_marker_others_may_read_proves_nothing(settings):
    """Whoever read the secret could answer for the stack."""
    with identity.running_dev_stack(settings):
        marker(settings).chmod(0o644)
        refused(settings)
        marker(settings).chmod(0o600)
        assert identity.under_dev_stack(settings)


@pytest.mark.parametrize(
    "text",
    [
        '{"pid": 1}',  # the oldest marker: no start time; pid 1 is always alive
        json.dumps({"pid": 1, "started": "another-boot:23", "temporal_address": ADDRESS}),
        json.dumps({"pid": 1, "temporal_address": ADDRESS, "secret": None}),
        "not json",
        "",
    ],
)
def test_an_older_or_unreadable_marker_proves_nothing(settings, text):
    with identity.running_dev_stack(settings):
        written(settings, text)
        refused(settings)


def test_a_socket_that_never_answers_is_given_up_on(settings):
    written(settings, json.dumps({"temporal_address": ADDRESS, "secret": "f" * 64}))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.bind(str(settings.state_dir / "dev-stack.sock"))
        silent.listen(1)  # accepts (the kernel queues the caller), never answers
        began = time.monotonic()
        assert not identity.under_dev_stack(settings)
        assert time.monotonic() - began < dev_proof.PROOF_TIMEOUT + 1


def test_a_live_stack_for_another_temporal_does_not_count(settings):
    with identity.running_dev_stack(settings):
        elsewhere = settings.model_copy(update={"temporal_address": "temporal.prod:7233"})
        assert not identity.under_dev_stack(elsewhere)


def test_a_second_stack_on_the_same_state_dir_is_refused(settings):
    with identity.running_dev_stack(settings):
        with pytest.raises(SettingsError, match="already running"):
            with identity.running_dev_stack(settings):
                pass
        assert identity.under_dev_stack(settings)  # the first still proves itself


def test_a_state_dir_too_long_for_a_socket_path_gets_an_abstract_socket(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    settings = Settings(_env_file=None, state_dir=deep, temporal_address=ADDRESS)
    assert len(os.fsencode(deep / "dev-stack.sock")) > 108
    with identity.running_dev_stack(settings):
        assert identity.under_dev_stack(settings)
        assert not (deep / "dev-stack.sock").exists()
    assert not identity.under_dev_stack(settings)


SHIPMATE_DEV = textwrap.dedent(
    """
    import sys, types
    from cli import identity, main
    from shipmate.settings import Settings

    settings = Settings(_env_file=None, state_dir=sys.argv[1], temporal_address=sys.argv[2])
    with identity.running_dev_stack(settings):
        print("running", flush=True)
        main._wait_for_interrupt(types.SimpleNamespace(parts=[]))
    """
)


def catches_sigterm(pid: int) -> None:
    caught = 1 << (signal.SIGTERM - 1)
    for _ in range(100):
        status = Path(f"/proc/{pid}/status").read_text()
        mask = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
        if int(mask.split()[1], 16) & caught:
            return
        time.sleep(0.1)
    raise AssertionError("the stack never set its SIGTERM handler")


def test_sigterm_stops_a_dev_stack_and_its_proof(settings):
    """As `shipmate dev` holds it: the socket's thread never holds up a SIGTERM."""
    stack = subprocess.Popen(
        [sys.executable, "-c", SHIPMATE_DEV, str(settings.state_dir), ADDRESS],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert stack.stdout.readline().strip() == "running"
        assert identity.under_dev_stack(settings)
        catches_sigterm(stack.pid)  # as `shipmate dev` does once its parts are up
        stack.terminate()
        assert stack.wait(timeout=10) == 0
    finally:
        stack.kill()
        stack.wait()
    refused(settings)
    assert not marker(settings).exists()
    assert not (settings.state_dir / "dev-stack.sock").exists()
