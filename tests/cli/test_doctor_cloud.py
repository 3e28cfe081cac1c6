"""`shipmate doctor` for a Temporal Cloud user: where the search attributes get added,
and a TLS key file whose content is never shown.

Temporal Cloud lists a namespace's search attributes but refuses to add them through
the operator API: they are added in its console (or with tcld). Debian's haproxy plays
that part here in front of a dev server without them, answering PermissionDenied to
AddSearchAttributes as Cloud does, so `--fix` must say where to go instead.
The key file is the client certificate's private key: whatever the doctor or a command
finds wrong with it, the lines it prints name the file, never what is in it.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from cli import devstack
from shipmate.ports import port_open
from tests.cli.test_doctor_search_attributes import (  # noqa: F401 (bare_temporal: a fixture)
    HOST,
    bare_temporal,
    doctor,
    search_line,
)
from tests.cli.test_temporal_tls import _shipmate, pki, proxy  # noqa: F401 (fixtures)
from workflows import search

ADD = "/temporal.api.operatorservice.v1.OperatorService/AddSearchAttributes"


@pytest.fixture()
def cloud_like(bare_temporal, tmp_path):  # noqa: F811 (the fixture imported above)
    """A gRPC front that lists search attributes but refuses to add any, as Cloud does."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        pytest.fail("haproxy is missing: apt-get install -y haproxy (deploy/setup-local.sh does)")
    port = devstack.free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        "defaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n"
        "  timeout server 60s\n"
        f"frontend cloud\n  bind {HOST}:{port} proto h2\n"
        "  http-request return status 200 hdr content-type application/grpc hdr grpc-status 7"
        f' hdr grpc-message "Request unauthorized." if {{ path {ADD} }}\n'
        "  default_backend temporal\n"
        f"backend temporal\n  server dev {bare_temporal} proto h2\n"
    )
    log = tmp_path / "haproxy.log"
    with log.open("w") as out:
        process = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 10
        while not port_open(port, HOST):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"haproxy did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield f"{HOST}:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_fix_tells_a_temporal_cloud_user_to_add_the_search_attributes_in_its_console(
    cloud_like,
):
    before = doctor(cloud_like)
    assert before.returncode == 1, before.stdout + before.stderr
    missing, fix = search_line(before)
    assert missing.split()[0] == "missing"
    assert "on Temporal Cloud, add them in its console" in fix

    fixed = doctor(cloud_like, "--fix")
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr  # nothing could be added
    (refused,) = [line for line in fixed.stdout.splitlines() if "could not add" in line]
    assert "Request unauthorized." in refused
    assert "on Temporal Cloud, add them in its console" in refused
    assert "Namespaces > default > Edit > Custom Search Attributes" in refused
    for key in search.ALL:  # what to add, and of which type, on the same line
        kind = "KeywordList" if key is search.ENVIRONMENT else "Keyword"
        assert f"--search-attribute {key.name}={kind}" in refused
    assert "Traceback" not in fixed.stdout + fixed.stderr


def _secret_lines(key: Path) -> list[str]:
    """The key's own lines: everything between its BEGIN and END markers."""
    return [line for line in key.read_text().splitlines() if line and "-----" not in line]


def _broken_key(folder: Path) -> Path:
    """The client's key with its body damaged: still PEM, no longer a key."""
    lines = (folder / "client.key").read_text().splitlines()
    lines[1] = lines[1][:10] + "A" * (len(lines[1]) - 20) + lines[1][-10:]
    broken = folder / "broken.key"
    broken.write_text("\n".join(lines) + "\n")
    return broken


@pytest.mark.parametrize("which", ["right", "another", "broken", "not-a-key"])
def test_the_key_file_content_is_never_shown(proxy, pki, which):  # noqa: F811
    key = {
        "right": pki / "client.key",
        "another": pki / "expired.key",  # a key, but not the certificate's
        "broken": _broken_key(pki),
        "not-a-key": pki / "client.pem",  # the certificate given as its own key
    }[which]
    settings = {
        "SHIPMATE_TEMPORAL_ADDRESS": f"127.0.0.1:{proxy.mtls}",
        "SHIPMATE_TEMPORAL_TLS_CERT": str(pki / "client.pem"),
        "SHIPMATE_TEMPORAL_TLS_KEY": str(key),
        "SHIPMATE_TEMPORAL_TLS_CA": str(pki / "ca.pem"),
    }
    checked = _shipmate("doctor", **settings)
    listed = _shipmate("status", **settings)
    said = checked.stdout + checked.stderr + listed.stdout + listed.stderr
    assert " temporal key " in checked.stdout  # the doctor did look at the key
    if which == "right":
        assert f"{key} is the certificate's key" in checked.stdout
    else:
        assert listed.returncode == 1 and "Traceback" not in listed.stderr
        assert str(key) in said or "SHIPMATE_TEMPORAL_TLS_KEY" in said  # names the file
    secrets = _secret_lines(key if which != "not-a-key" else pki / "client.key")
    assert secrets
    for secret in secrets:
        assert secret not in said
        assert secret[:16] not in said
