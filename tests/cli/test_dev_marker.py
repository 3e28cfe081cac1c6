"""Only a live `shipmate dev` lets the command line act as anyone (#29 item 1, its marker
part). The marker named its stack by pid alone, so a marker left by a stack that died,
whose pid now belongs to another process (or pid 1, when the command line runs as root
in a container), let `--approve-as` name anyone next to a real Temporal."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cli import identity
from shipmate.settings import Settings, SettingsError


@pytest.fixture()
def settings(tmp_path) -> Settings:
    return Settings(
        _env_file=None, state_dir=tmp_path, temporal_address="127.0.0.1:7233", operator="U0OPS"
    )


def left_behind(settings: Settings, **marker) -> None:
    path = settings.state_dir / "dev-stack.json"
    path.write_text(json.dumps({"temporal_address": settings.temporal_address, **marker}))


def test_a_live_dev_stack_lets_the_command_line_act_as_anyone(settings):
    with identity.running_dev_stack(settings):
        assert identity.under_dev_stack(settings)
        assert identity.acting_as(settings, "U0BOB", "--approve-as") == "U0BOB"
    assert not identity.under_dev_stack(settings)  # gone with the stack


def test_a_marker_whose_pid_now_belongs_to_another_process_proves_nothing(settings):
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with identity.running_dev_stack(settings):
            real = json.loads((settings.state_dir / "dev-stack.json").read_text())
        # the stack died; the kernel gave its pid to the stranger
        left_behind(settings, pid=stranger.pid, started=real["started"])
        assert not identity.under_dev_stack(settings)
        with pytest.raises(SettingsError, match="acts only as SHIPMATE_OPERATOR"):
            identity.acting_as(settings, "U0BOB", "--approve-as")
    finally:
        stranger.kill()
        stranger.wait()


@pytest.mark.parametrize(
    "marker",
    [
        {"pid": 1},  # an older marker, no start time; pid 1 is always alive
        {"pid": 1, "started": "another-boot:23"},
        {"pid": 1, "started": None},
    ],
)
def test_pid_1_or_an_older_marker_proves_nothing(settings, marker):
    left_behind(settings, **marker)
    assert not identity.under_dev_stack(settings)


def test_a_live_stack_for_another_temporal_does_not_count(settings):
    with identity.running_dev_stack(settings):
        elsewhere = settings.model_copy(update={"temporal_address": "temporal.prod:7233"})
        assert not identity.under_dev_stack(elsewhere)
