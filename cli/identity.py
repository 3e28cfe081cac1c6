"""Who the command line acts as.

Outside `shipmate dev` the command line is an operator's tool acting as one configured
person (SHIPMATE_OPERATOR): it cannot approve as someone else, so a prod deploy started
from a terminal still needs a second person. Under `shipmate dev` (a demo on one
machine, with the emulator's made-up people) `--as` and `--approve-as` may name anyone.
`shipmate dev` proves it is running, not merely that some pid is alive: each run makes
a random secret, kept in its memory and in a marker in its state directory that only
its user may read, and answers a challenge with it on a Unix socket there
(cli/dev_proof.py). A marker left by a stack that died, copied from an earlier run, or
written by hand naming a live process (pid 1, when the command line runs as root in a
container) proves nothing.
"""

from __future__ import annotations

from contextlib import contextmanager

from cli import dev_proof
from shipmate.settings import Settings, SettingsError

DEV_OPERATOR = "U0ALICE"  # the emulator's developer
DEV_DEVELOPERS = ["U0ALICE", "U0BOB"]  # the demo's roles: alice builds, bob approves too


@contextmanager
def running_dev_stack(settings: Settings):
    """Held by `shipmate dev` while its stack runs: its marker and the socket proving it."""
    with dev_proof.proving(settings.state_dir, {"temporal_address": settings.temporal_address}):
        yield


def under_dev_stack(settings: Settings) -> bool:
    """Whether this command line talks to the Temporal a live `shipmate dev` started:
    its marker names that Temporal and the stack answers with the marker's secret."""
    marker = dev_proof.read_marker(settings.state_dir)
    if marker is None or marker.get("temporal_address") != settings.temporal_address:
        return False
    return dev_proof.answers(settings.state_dir, marker["secret"])


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
