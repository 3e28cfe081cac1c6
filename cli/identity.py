"""Who the command line acts as.

Outside `shipmate dev` the command line is an operator's tool acting as one configured
person (SHIPMATE_OPERATOR): it cannot approve as someone else, so a prod deploy started
from a terminal still needs a second person. Under `shipmate dev` (a demo on one
machine, with the emulator's made-up people) `--as` and `--approve-as` may name anyone.
`shipmate dev` says it is running by a marker file in its state directory, naming its
process by pid and start time: a marker left behind by a stack that died, whose pid the
kernel has since given to another process (or pid 1, when the command line runs as root
in a container), proves nothing.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

from shipmate.settings import Settings, SettingsError

DEV_OPERATOR = "U0ALICE"  # the emulator's developer
DEV_DEVELOPERS = ["U0ALICE", "U0BOB"]  # the demo's roles: alice builds, bob approves too


def _marker(settings: Settings) -> Path:
    return settings.state_dir.resolve() / "dev-stack.json"


@contextmanager
def running_dev_stack(settings: Settings):
    """Held by `shipmate dev` while its stack runs."""
    marker = _marker(settings)
    marker.parent.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    marker.write_text(
        json.dumps(
            {
                "pid": pid,
                "started": process_start(pid),
                "temporal_address": settings.temporal_address,
            }
        )
    )
    try:
        yield
    finally:
        marker.unlink(missing_ok=True)


def under_dev_stack(settings: Settings) -> bool:
    """Whether this command line talks to the Temporal a live `shipmate dev` started."""
    try:
        marker = json.loads(_marker(settings).read_text())
        pid = int(marker["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if marker.get("started") != process_start(pid):
        return False  # that pid is another process now
    return marker.get("temporal_address") == settings.temporal_address


def process_start(pid: int) -> str | None:
    """The boot and the moment a process started, as the kernel says: a pid given to
    another process since (even after a reboot) reads differently. None without /proc,
    where the pid alone is all there is to go on."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    after_name = stat.rsplit(")", 1)[1].split()  # the name may hold spaces and brackets
    return f"{boot}:{after_name[19]}"  # field 22 of proc(5): starttime


def with_dev_stack_developers(settings: Settings) -> Settings:
    """Next to a running `shipmate dev`, its developers unless SHIPMATE_DEVELOPERS is set:
    the default is nobody, and a terminal there asks as the demo's people."""
    if "developers" in settings.model_fields_set or not under_dev_stack(settings):
        return settings
    return settings.model_copy(update={"developers": list(DEV_DEVELOPERS)})


def operator(settings: Settings) -> str:
    if settings.operator:
        return settings.operator
    if under_dev_stack(settings):
        return DEV_OPERATOR
    raise SettingsError(
        "SHIPMATE_OPERATOR must be set to your Slack user id (U…): the command line acts as you"
    )


def acting_as(settings: Settings, person: str | None, flag: str = "--as") -> str:
    """`person` when the command line may act as them, else a refusal naming the rule."""
    me = operator(settings)
    if person in (None, me):
        return me
    if under_dev_stack(settings):
        return person
    raise SettingsError(
        f"{flag} {person}: outside `shipmate dev` the command line acts only as "
        f"SHIPMATE_OPERATOR ({me}); {person} decides in Slack or from their own terminal"
    )
