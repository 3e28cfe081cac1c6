"""Who the command line acts as.

Outside `shipmate dev` the command line is an operator's tool acting as one configured
person (SHIPMATE_OPERATOR): it cannot approve as someone else, so a prod deploy started
from a terminal still needs a second person. Under `shipmate dev` (a demo on one
machine, with the emulator's made-up people) `--as` and `--approve-as` may name anyone.
`shipmate dev` says it is running by a marker file in its state directory.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

from shipmate.settings import Settings, SettingsError

DEV_OPERATOR = "U0ALICE"  # the emulator's developer


def _marker(settings: Settings) -> Path:
    return settings.state_dir.resolve() / "dev-stack.json"


@contextmanager
def running_dev_stack(settings: Settings):
    """Held by `shipmate dev` while its stack runs."""
    marker = _marker(settings)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(
        json.dumps({"pid": os.getpid(), "temporal_address": settings.temporal_address})
    )
    try:
        yield
    finally:
        marker.unlink(missing_ok=True)


def under_dev_stack(settings: Settings) -> bool:
    """Whether this command line talks to the Temporal a live `shipmate dev` started."""
    try:
        marker = json.loads(_marker(settings).read_text())
        os.kill(int(marker["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return marker.get("temporal_address") == settings.temporal_address


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
