"""The house keeps its rooms: imports run one way (the roof, the rooms, the ground floor,
the domain), no room has an import circle, and no module outgrows one reader's head.
The contracts are in pyproject.toml ([tool.importlinter])."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CEILING = 400  # lines: a module past this is asking to be split
ROOMS = (
    "cli",
    "bot",
    "activities",
    "slack_emulator",
    "slack_views",
    "understanding",
    "shipmate",
    "workflows",
    "testkit",
    "benchmarks",
    "tests",
)


def test_imports_run_one_way_and_in_no_circle() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "2 kept, 0 broken" in run.stdout


def test_no_module_is_over_the_ceiling() -> None:
    too_long = {}
    for room in ROOMS:
        for module in (ROOT / room).rglob("*.py"):
            lines = len(module.read_text().splitlines())
            if lines > CEILING:
                too_long[str(module.relative_to(ROOT))] = lines
    assert too_long == {}


def test_shipmates_image_carries_every_room_it_installs() -> None:
    """deploy/Dockerfile copies room by room: a room it leaves out installs as nothing,
    and the image's `shipmate` fails at its first import."""
    installed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    rooms = {pattern.rstrip("*") for pattern in installed["packages"]["find"]["include"]}
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+)/ \1/$", dockerfile, flags=re.M))
    assert rooms == copied
