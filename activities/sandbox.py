"""Run a generated service's own tests in a locked-down container.

No network, a CPU and memory limit and a timeout: the code is not trusted until its
tests pass, and it must not reach anything while they run. Nor may it act as more than
a stranger inside: a fixed non-root user, no capabilities, no new privileges (setuid
programs stay unprivileged), a bounded number of processes, and a read-only root with a
small tmpfs at /tmp (HOME, SQLite files). The sources go into a volume of the container's
own at its working directory (a read-only root takes no copy), owned by root: the tests
read them and cannot change them; the volume goes with the container.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable

from docker.errors import DockerException, NotFound
from docker.types import Mount
from requests.exceptions import RequestException
from temporalio import activity

from activities.deploy_targets.naming import INSTALLATION, MANAGED_BY, installation_id
from activities.images import docker_client, tail
from shipmate.settings import Settings
from workflows.stage_models import TestReport

SUMMARY = re.compile(r"(\d+) (passed|failed|error|errors)")
# One line a test as it ends ("tests/test_api.py::test_create PASSED   [ 12%]"): Docker
# keeps a container's output by lines, and pytest -q's marks share one until it fills.
# The image's CMD runs `pytest -q`; two -v more make it verbose.
PYTEST_PER_TEST = {"PYTEST_ADDOPTS": "-vv", "PYTHONUNBUFFERED": "1"}
# And nothing the tests need writes outside /tmp: no bytecode, no pytest cache (an older
# test image's CMD may not say so), HOME under the tmpfs.
SANDBOX_ENV = {
    **PYTEST_PER_TEST,
    "PYTEST_ADDOPTS": PYTEST_PER_TEST["PYTEST_ADDOPTS"] + " -p no:cacheprovider",
    "PYTHONDONTWRITEBYTECODE": "1",
    "HOME": "/tmp",
}
SANDBOX_USER = "10001:10001"  # the runtime image's `app` uid; no name needed in the image
PIDS_LIMIT = 256  # processes and threads together: a fork bomb stops here
TMPFS = {"/tmp": "rw,nosuid,nodev,size=256m,mode=1777"}  # counted in the 1 GiB
# What every container of code Shipmate did not write runs under (tests, reviews).
LOCKED_DOWN = {
    "network_disabled": True,
    "mem_limit": "1g",
    "nano_cpus": 1_000_000_000,
    "user": SANDBOX_USER,
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
    "pids_limit": PIDS_LIMIT,
    "read_only": True,
    "tmpfs": TMPFS,
}
SOURCES_DIR = "/sources"  # where the sources go when the image names no working directory
TEST_LINE = re.compile(r"::\S.* (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b.*?(?:\[\s*(\d+)%\])?$")
POLL_SECONDS = 1.0  # how often a running test container's output is read for progress


class TestsFailed(Exception):
    """The generated tests ran and did not pass."""

    def __init__(self, report: TestReport):
        super().__init__(f"generated tests failed: {report.summary()}")
        self.report = report


def run_tests_in_container(
    settings: Settings,
    test_image: str,
    heartbeat: Callable[[str], None],
    *,
    sources: bytes | None,
    tested: str,
) -> TestReport:
    """Run the image's tests (its CMD) on `sources` (a tar, copied to its working
    directory before it starts; None: the image has them); `tested` names what is
    tested, in the container's name."""
    client = docker_client(settings)
    started = time.monotonic()
    name = test_container_name(settings, tested)
    remove_leftover(client, name)
    labels = {
        "shipmate.role": "tests",
        MANAGED_BY: "shipmate",
        INSTALLATION: installation_id(settings),
    }
    placed = {}
    if sources is not None:  # an anonymous volume, removed with the container (v=True)
        workdir = client.images.get(test_image).attrs["Config"]["WorkingDir"] or SOURCES_DIR
        placed = {
            "working_dir": workdir,
            "mounts": [Mount(workdir, None, type="volume", labels=labels)],
        }
    try:
        # inside the try: a cancel raised the moment create returns still removes it
        container = client.containers.create(
            test_image,
            name=name,
            **LOCKED_DOWN,
            # each test's line as it ends, for the progress; and nothing written but /tmp
            environment=SANDBOX_ENV,
            labels=labels,
            **placed,
        )
        if sources is not None:
            container.put_archive(placed["working_dir"], sources)
        container.start()
        deadline = started + settings.test_timeout_seconds
        heartbeat("tests: starting")
        while True:
            if exited_within(container, min(POLL_SECONDS, deadline - time.monotonic())):
                break
            if time.monotonic() > deadline:
                container.kill()
                output = container.logs().decode(errors="replace")
                raise TestsFailed(
                    TestReport(
                        passed=0,
                        failed=1,
                        duration_seconds=time.monotonic() - started,
                        output_tail=f"timed out after {settings.test_timeout_seconds}s\n"
                        + tail(output.splitlines()),
                    )
                )
            heartbeat(tests_so_far(container.logs().decode(errors="replace")))
        container.reload()
        exit_code = container.attrs["State"]["ExitCode"]
        output = container.logs().decode(errors="replace")
    finally:
        with cancel_waits():  # a cancel arriving now is raised once the container is gone
            try:
                remove_leftover(client, name)  # by name: the variable may never have been set
            except DockerException:
                pass
    report = _report(output, time.monotonic() - started)
    if exit_code != 0 or report.failed:
        if report.failed == 0:
            report.failed = 1
        raise TestsFailed(report)
    return report


def cancel_waits():
    """Inside a stage, hold back a cancel until the block is done (the SDK raises a sync
    stage's cancel anywhere in its thread); outside one, nothing to hold back."""
    if activity.in_activity():
        return activity.shield_thread_cancel_exception()
    return contextlib.nullcontext()


def exited_within(container, seconds: float) -> bool:
    """Wait for the container to exit, but no longer than `seconds`: the tests' end is
    seen at once rather than at the next poll."""
    try:
        container.wait(timeout=max(seconds, 0.1))
    except RequestException:  # the time was up, or the engine failed: reload tells which
        container.reload()
        return container.status == "exited"
    return True


def test_container_name(settings: Settings, tested: str) -> str:
    """One name per installation and tested sources: a run that outlived its worker is
    found, and removed, by the run that replaces it."""
    return "shipmate-{}-{}".format(installation_id(settings), re.sub(r"[^\w.-]", "-", tested))


def remove_leftover(client, name: str) -> None:
    try:
        client.containers.get(name).remove(force=True, v=True)  # and its sources' volume
    except NotFound:
        pass


def tests_so_far(output: str) -> str:
    """The tests' progress as pytest printed it so far: "12 passed, 1 failed so far"."""
    outcomes, done = [], None
    for line in output.splitlines():
        if found := TEST_LINE.search(line.rstrip()):
            outcomes.append(found[1])
            done = found[2] or done
    if not outcomes:
        return "tests: collecting"
    failed = outcomes.count("FAILED") + outcomes.count("ERROR")
    share = f" ({done}%)" if done else ""
    return f"tests: {outcomes.count('PASSED')} passed, {failed} failed so far{share}"


def _report(output: str, duration: float) -> TestReport:
    counts = {"passed": 0, "failed": 0}
    last = output.strip().splitlines()[-1] if output.strip() else ""
    for number, word in SUMMARY.findall(last):
        key = "failed" if word.startswith(("failed", "error")) else "passed"
        counts[key] += int(number)
    return TestReport(
        passed=counts["passed"],
        failed=counts["failed"],
        duration_seconds=duration,
        output_tail=tail(output.splitlines()),
    )
