"""The sandbox a generated service's tests run in, seen from inside it: no network, one
CPU, 1 GiB of memory, and a timeout that stops a run that never ends.

The README promises these of code nobody has reviewed yet; here a test image looks at
its own cgroup and network, as the generated tests would if they went looking.
"""

from __future__ import annotations

import docker
import pytest

from activities import sandbox
from activities.sandbox import run_tests_in_container
from testkit import sandbox_probe
from testkit.sandbox_probe import sources

LOOK_AROUND = """
import os, pathlib, socket
cgroup = pathlib.Path("/sys/fs/cgroup")
def read(*names):
    return " ".join((cgroup / name).read_text().strip() for name in names)
if (cgroup / "memory.max").exists():  # cgroup v2
    print("memory.max", read("memory.max"))
    print("cpu.max", read("cpu.max"))
else:  # cgroup v1, as on this Debian host
    print("memory.max", read("memory/memory.limit_in_bytes"))
    print("cpu.max", read("cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us"))
print("interfaces", ",".join(sorted(os.listdir("/sys/class/net"))))
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    print("outside: reached")
except OSError as exc:
    print("outside:", type(exc).__name__)
print("1 passed in 0.01s")
"""


@pytest.fixture(scope="module")
def test_image(settings, docker_ready):
    with sandbox_probe.probe_image(settings.base_image, "shipmate-sandbox-probe") as tag:
        yield tag


def test_the_tests_see_one_cpu_one_gib_and_no_network(settings, test_image):
    beats = []
    report = run_tests_in_container(
        settings, test_image, beats.append, sources=sources(LOOK_AROUND), tested="probe"
    )
    seen = dict(line.split(" ", 1) for line in report.output_tail.splitlines() if " " in line)
    assert seen["memory.max"] == str(1024**3)
    assert seen["cpu.max"] == "100000 100000"  # one CPU's worth of every period
    assert seen["interfaces"] == "lo"  # no network but loopback
    assert seen["outside:"] in ("OSError", "TimeoutError")  # unreachable, never "reached"
    assert report.passed == 1 and report.failed == 0


def test_a_run_that_never_ends_is_stopped_at_the_timeout(settings, test_image):
    impatient = settings.model_copy(update={"test_timeout_seconds": 3})
    forever = "import time\nprint('started', flush=True)\ntime.sleep(600)\n"
    with pytest.raises(sandbox.TestsFailed) as stopped:
        run_tests_in_container(
            impatient, test_image, lambda note: None, sources=sources(forever), tested="forever"
        )
    assert stopped.value.report.output_tail.startswith("timed out after 3s\nstarted")
    assert stopped.value.report.failed == 1
    leftovers = docker.from_env().containers.list(all=True, filters={"name": "forever"})
    assert [c for c in leftovers if settings.installation in c.name] == []
