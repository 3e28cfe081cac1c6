"""`shipmate doctor` names each part it needs, where it found it, and a port already in
use as a warning (the stack may be running), each with its fix."""

from __future__ import annotations

import socket

from cli import devstack, doctor


def test_the_doctor_finds_the_programs_and_warns_of_a_port_in_use(settings):
    holder = socket.socket()
    holder.bind(("127.0.0.1", devstack.free_port()))
    holder.listen()
    taken = holder.getsockname()[1]
    try:
        local = settings.model_copy(update={"registry_port": taken})
        checks = {c.name: c for c in doctor.run_checks(local)}
    finally:
        holder.close()

    assert checks["temporal"].ok and checks["temporal"].detail.endswith("/temporal")
    assert checks["registry"].ok and checks["registry"].detail.endswith("docker-registry")
    assert checks["debootstrap"].ok
    busy = checks["registry port"]
    assert (busy.ok, busy.essential, busy.detail) == (False, False, f"{taken} in use")
    assert busy.fix == "stop what holds it, or set the matching SHIPMATE_ variable"
    lines: list[str] = []
    assert doctor.report(list(checks.values()), lines.append) is True  # a warning, not a stop
    assert any(line.startswith("  warning") and "registry port" in line for line in lines), lines
