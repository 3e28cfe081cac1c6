"""The sandbox a generated service's tests run in, seen from inside it: not root, no
capabilities, no new privileges, a read-only root with a writable /tmp, and a bounded
number of processes; and the generated tests still pass under all of it.

The code under test is nobody's reviewed code yet: whatever it tries, as a test would,
must stay inside the container and be unable to take the engine down with it.
"""

from __future__ import annotations

import pytest
from temporalio.testing import ActivityEnvironment

from activities import artifacts
from activities.sandbox import run_tests_in_container
from activities.stages import DeliveryActivities
from testkit import sandbox_probe
from testkit.sandbox_probe import sources
from understanding import parse_request
from workflows.stage_models import ScaffoldInput

PIDS_LIMIT = 256  # the README's number: processes and threads of the whole container
FORK_CEILING = 600  # the probe stops here on its own: an unlimited sandbox is not a host's end

LOOK_AROUND = """
import errno, os
status = dict(
    line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line
)
print("uid", os.getuid())
print("CapEff", status["CapEff"].strip())
print("NoNewPrivs", status["NoNewPrivs"].strip())
def attempt(directory):
    path = os.path.join(directory, "probe-" + str(os.getpid()))
    try:
        with open(path, "w") as written:
            written.write("x")
        os.remove(path)
        return "wrote"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))
for directory in ("/", "/usr", "/etc", "/tmp"):
    print("write:" + directory, attempt(directory))
print("home", os.environ.get("HOME", ""))
print("write:home", attempt(os.environ.get("HOME", "/")))
print("1 passed in 0.01s")
"""

# Forks children that wait on a pipe until the engine refuses one, or the ceiling is
# reached; closing the pipe's last write end lets every child exit, and each is reaped.
FORKS = f"""
import os
readable, writable = os.pipe()
children, stopped = 0, "ceiling"
while children < {FORK_CEILING}:
    try:
        pid = os.fork()
    except OSError as exc:
        stopped = type(exc).__name__
        break
    if pid == 0:
        os.close(writable)
        os.read(readable, 1)
        os._exit(0)
    children += 1
os.close(writable)
for _ in range(children):
    os.wait()
print("children", children)
print("stopped", stopped)
print("1 passed in 0.01s")
"""

# Appended to a scaffolded service's tests: the generated suite, migrations and SQLite
# included, runs in the same container as this look at it.
SEEN_BY_THE_GENERATED_TESTS = """
import os
import pathlib


def test_the_sandbox_is_locked_down():
    status = pathlib.Path("/proc/self/status").read_text()
    assert os.getuid() != 0
    assert "CapEff:\\t0000000000000000" in status
    assert "NoNewPrivs:\\t1" in status
    for directory in ("/", "/usr", os.getcwd()):
        try:
            open(os.path.join(directory, "written-by-a-test"), "w").close()
        except OSError:
            continue
        raise AssertionError(f"a test could write to {directory}")
"""


@pytest.fixture(scope="module")
def probe_image(settings, docker_ready):
    with sandbox_probe.probe_image(settings.base_image, "shipmate-sandbox-hardening") as tag:
        yield tag


def seen(report) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in report.output_tail.splitlines() if " " in line)


@pytest.fixture(scope="module")
def looked_around(settings, probe_image):
    report = run_tests_in_container(
        settings,
        probe_image,
        lambda note: None,
        sources=sources(LOOK_AROUND),
        tested="hardening-probe",
    )
    return seen(report)


def test_the_tests_do_not_run_as_root(looked_around):
    assert looked_around["uid"] != "0"
    assert looked_around["uid"] == "10001"


def test_the_tests_have_no_capabilities(looked_around):
    assert int(looked_around["CapEff"], 16) == 0


def test_the_tests_cannot_gain_privileges(looked_around):
    assert looked_around["NoNewPrivs"] == "1"


def test_the_root_filesystem_is_read_only_and_tmp_is_writable(looked_around):
    # read-only, not merely someone else's: even a root with every capability could not
    assert looked_around["write:/"] == "EROFS"
    assert looked_around["write:/usr"] == "EROFS"
    assert looked_around["write:/etc"] == "EROFS"
    assert looked_around["write:/tmp"] == "wrote"
    # HOME is under the tmpfs, for the tools that write there
    assert looked_around["home"].startswith("/tmp")
    assert looked_around["write:home"] == "wrote"


def test_a_fork_bomb_stops_at_the_pids_limit(settings, probe_image):
    report = run_tests_in_container(
        settings,
        probe_image,
        lambda note: None,
        sources=sources(FORKS),
        tested="hardening-forks",
    )
    forks = seen(report)
    assert forks["stopped"] == "BlockingIOError"  # EAGAIN from the pids cgroup
    # the limit stopped it, not something else: all but a few of its processes were made
    assert PIDS_LIMIT - 16 <= int(forks["children"]) < PIDS_LIMIT
    assert report.passed == 1 and report.failed == 0


def test_the_generated_tests_pass_in_the_locked_down_sandbox(settings, docker_ready, tmp_path):
    stages = DeliveryActivities(settings.model_copy(update={"state_dir": tmp_path}))
    run = ActivityEnvironment().run
    spec = parse_request("build a pantry api on sqlite").spec
    scaffold = run(stages.scaffold_service, ScaffoldInput(spec=spec, request_text=""))
    repo = stages.settings.services_dir / spec.name
    (repo / "tests" / "test_sandbox_seen.py").write_text(SEEN_BY_THE_GENERATED_TESTS)
    looked = scaffold.model_copy(
        update={
            "artifact": artifacts.save(stages.settings, spec.name, repo),
            "fingerprint": "d" * 64,
        }
    )
    report = run(stages.test_service, looked)
    assert report.passed > 6 and report.failed == 0
