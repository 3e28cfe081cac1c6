"""What `deploy/setup-local.sh` leaves behind, the README's first step of both commands:
the pinned packages in .venv, the programs the suite and `shipmate dev` run, a Docker
engine that answers and the offline base image (the last two through `doctor --fix`)."""

from __future__ import annotations

import re
import shutil
from importlib import metadata
from pathlib import Path

import docker
from packaging.requirements import Requirement

from shipmate.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ["dockerd", "docker-registry", "debootstrap", "git", "caddy", "chromium"]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[_normal(name)] = version
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _wanted(name: str, extras: tuple[str, ...] = ("test",), seen=None) -> set[str]:
    """The distribution and everything it needs, with the named extras."""
    seen = set() if seen is None else seen
    if _normal(name) in seen:
        return seen
    seen.add(_normal(name))
    for text in metadata.requires(name) or []:
        needed = Requirement(text)
        if needed.marker and not any(
            needed.marker.evaluate({"extra": extra}) for extra in ("", *extras)
        ):
            continue
        _wanted(needed.name, needed.extras and tuple(needed.extras) or (), seen)
    return seen


def test_every_package_shipmate_needs_is_installed_at_its_pinned_version():
    pins = _pins()
    wanted = _wanted("shipmate") - {"shipmate"}
    unpinned = sorted(name for name in wanted if name not in pins)
    assert unpinned == [], f"needed but not pinned in constraints.txt: {unpinned}"
    drift = {
        name: (metadata.version(name), pins[name])
        for name in wanted
        if metadata.version(name) != pins[name]
    }
    assert drift == {}, f"installed vs pinned: {drift}"


def test_the_programs_the_suite_and_shipmate_dev_run_are_installed():
    missing = [program for program in PROGRAMS if not shutil.which(program)]
    assert missing == []
    assert Path("/usr/sbin/haproxy").exists() and Path("/usr/sbin/mariadbd").exists()
    assert list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


def test_the_engine_answers_and_has_the_offline_base_image():
    engine = docker.from_env()
    assert engine.ping()
    base = Settings().base_image
    assert engine.images.get(base).tags, f"{base} is missing: run shipmate doctor --fix"
