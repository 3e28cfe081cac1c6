"""Temporal behind TLS as production has it: mutual TLS, an API key, and `shipmate doctor`.

Debian's haproxy terminates TLS in front of the session's dev server: one port wants a
client certificate signed by a throwaway CA (mTLS, TCP mode), the other reads gRPC
(HTTP/2) and answers UNAUTHENTICATED unless `authorization: Bearer <key>` carries the
key, as Temporal Cloud does for API keys.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.client import WorkflowExecutionStatus

from cli import devstack, doctor
from shipmate.ports import port_open
from shipmate.temporal import TemporalUnavailable, connect

API_KEY = f"tk-{uuid.uuid4().hex}"
BOTH = "SHIPMATE_TEMPORAL_TLS_CERT and SHIPMATE_TEMPORAL_TLS_KEY go together"
EC = "ec -pkeyopt ec_paramgen_curve:prime256v1"


@dataclass
class Proxy:
    mtls: int  # TLS, client certificate required
    api_key: int  # TLS, bearer token required


def _openssl(args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args.split()], cwd=cwd, check=True, capture_output=True, timeout=30)


def _shipmate(command: str, **settings: str) -> subprocess.CompletedProcess:
    """The command line as an operator runs it, with these SHIPMATE_* settings."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", command],
        capture_output=True,
        text=True,
        env={**os.environ, **settings},
        timeout=60,
    )


def _issue(pki: Path, name: str, days: int, extensions: str, ca: str = "ca") -> None:
    """A key and a certificate for `name`, signed by `ca`; a negative `days` is expired."""
    _openssl(f"req -newkey {EC} -nodes -keyout {name}.key -out {name}.csr -subj /CN={name}", pki)
    (pki / f"{name}.ext").write_text(extensions)
    _openssl(
        f"x509 -req -in {name}.csr -CA {ca}.pem -CAkey {ca}.key -out {name}.pem -days {days} "
        f"-extfile {name}.ext",
        pki,
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    pki = tmp_path_factory.mktemp("pki")
    for ca in ("ca", "other-ca"):
        new_ca = f"req -x509 -newkey {EC} -nodes -keyout {ca}.key -out {ca}.pem -days 2"
        _openssl(f"{new_ca} -subj /CN={ca}", pki)
    server = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
    _issue(pki, "server", 2, server)
    bundle = (pki / "server.pem").read_bytes() + (pki / "server.key").read_bytes()
    (pki / "server-bundle.pem").write_bytes(bundle)  # haproxy's crt: certificate and key
    client = "extendedKeyUsage=clientAuth\n"
    _issue(pki, "client", 365, client)
    _issue(pki, "expired", -1, client)
    _issue(pki, "expiring", 5, client)
    return pki


@pytest.fixture(scope="module")
def proxy(stack, pki, tmp_path_factory):
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        pytest.fail("haproxy is missing: apt-get install -y haproxy (deploy/setup-local.sh does)")
    ports, _ = stack
    proxy = Proxy(mtls=devstack.free_port(), api_key=devstack.free_port())
    server = f"ssl crt {pki / 'server-bundle.pem'} alpn h2"
    config = tmp_path_factory.mktemp("haproxy") / "haproxy.cfg"
    config.write_text(
        "defaults\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n"
        f"frontend mtls\n  mode tcp\n"
        f"  bind 127.0.0.1:{proxy.mtls} {server} ca-file {pki / 'ca.pem'} verify required\n"
        f"  default_backend temporal\n"
        f"backend temporal\n  mode tcp\n  server dev 127.0.0.1:{ports['temporal']}\n"
        f"frontend api_key\n  mode http\n  bind 127.0.0.1:{proxy.api_key} {server}\n"
        "  http-request return status 200 hdr content-type application/grpc hdr grpc-status 16"
        ' hdr grpc-message "missing or wrong API key"'
        f' unless {{ req.hdr(authorization) -m str "Bearer {API_KEY}" }}\n'
        f"  default_backend temporal_h2\n"
        f"backend temporal_h2\n  mode http\n  server dev 127.0.0.1:{ports['temporal']} proto h2\n"
    )
    log = config.with_suffix(".log")
    with log.open("w") as out:
        process = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 10
        while not (port_open(proxy.mtls) and port_open(proxy.api_key)):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"haproxy did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield proxy
    finally:
        process.terminate()
        process.wait(timeout=10)


def mtls(settings, proxy: Proxy, pki: Path, cert: str = "client", ca: str = "ca", **more):
    """Settings for the mTLS port with the named certificate and CA; None leaves one out."""
    return settings.model_copy(
        update={
            "temporal_address": f"127.0.0.1:{proxy.mtls}",
            "temporal_tls_cert": pki / f"{cert}.pem" if cert else None,
            "temporal_tls_key": pki / f"{cert}.key" if cert else None,
            "temporal_tls_ca": pki / f"{ca}.pem" if ca else None,
            **more,
        }
    )


def with_api_key(settings, proxy: Proxy, pki: Path, key: str = API_KEY):
    return settings.model_copy(
        update={
            "temporal_address": f"127.0.0.1:{proxy.api_key}",
            "temporal_tls_ca": pki / "ca.pem",
            "temporal_api_key": SecretStr(key) if key else None,
        }
    )


def doctor_lines(settings) -> list[str]:
    """What `shipmate doctor` prints for these settings, as the CLI calls it."""
    lines: list[str] = []
    doctor.report(doctor.run_checks(settings), lines.append)
    return "\n".join(lines).splitlines()


def line_of(lines: list[str], name: str) -> str:
    found = [line for line in lines if f" {name} " in line]
    assert found, lines
    return found[0]


async def start_and_describe(client) -> None:
    """What a worker and the bot do: start a workflow in the namespace and read it back."""
    workflow_id = f"tls-probe-{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow("TlsProbe", id=workflow_id, task_queue="tls-probe")
    try:
        described = await handle.describe()
        assert described.status == WorkflowExecutionStatus.RUNNING
        assert described.workflow_type == "TlsProbe"
    finally:
        await handle.terminate("probe done")


async def test_with_certificate_key_and_ca_the_client_starts_and_reads_a_workflow(
    settings, proxy, pki
):
    await start_and_describe(await connect(mtls(settings, proxy, pki)))


async def test_without_a_client_certificate_the_server_refuses_in_one_clear_line(
    settings, proxy, pki
):
    with pytest.raises(TemporalUnavailable) as refused:
        await connect(mtls(settings, proxy, pki, cert=None))
    # TLS 1.3 sends the server's alert after the handshake: the client reads the alert
    # (CertificateRequired) or, if it was writing, a closed connection; both say what to set.
    message = str(refused.value)
    assert message.startswith(f"TLS with Temporal at 127.0.0.1:{proxy.mtls} failed: the server ")
    assert message.endswith("set SHIPMATE_TEMPORAL_TLS_CERT and SHIPMATE_TEMPORAL_TLS_KEY")


def test_the_command_line_says_so_without_a_traceback(proxy, pki):
    result = _shipmate(
        "status",
        SHIPMATE_TEMPORAL_ADDRESS=f"127.0.0.1:{proxy.mtls}",
        SHIPMATE_TEMPORAL_TLS_CA=str(pki / "ca.pem"),
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "set SHIPMATE_TEMPORAL_TLS_CERT and SHIPMATE_TEMPORAL_TLS_KEY" in result.stderr
    assert "Traceback" not in result.stderr


async def test_a_server_signed_by_another_ca_fails_naming_the_ca_setting(settings, proxy, pki):
    expected = "not signed by a trusted CA: check SHIPMATE_TEMPORAL_TLS_CA"
    with pytest.raises(TemporalUnavailable, match=expected):
        await connect(mtls(settings, proxy, pki, ca="other-ca"))


async def test_a_name_the_server_certificate_lacks_fails_naming_the_server_name_setting(
    settings, proxy, pki
):
    wrong = mtls(settings, proxy, pki, temporal_tls_server_name="temporal.example")
    with pytest.raises(TemporalUnavailable, match="check SHIPMATE_TEMPORAL_TLS_SERVER_NAME"):
        await connect(wrong)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"temporal_tls_key": None}, f"{BOTH}: a client certificate needs its key"),
        ({"temporal_tls_cert": None}, f"{BOTH}: a client certificate needs its key"),
        (
            {"temporal_tls_cert": Path("/nowhere/client.pem")},
            "SHIPMATE_TEMPORAL_TLS_CERT: cannot read /nowhere/client.pem: No such file",
        ),
        (
            {"temporal_tls_ca": Path("/etc/hostname")},
            "SHIPMATE_TEMPORAL_TLS_CA: /etc/hostname is not a PEM file",
        ),
    ],
)
async def test_a_mistake_in_the_settings_is_one_line_naming_the_setting(
    settings, proxy, pki, change, message
):
    with pytest.raises(TemporalUnavailable) as refused:
        await connect(mtls(settings, proxy, pki, **change))
    assert str(refused.value).startswith(message)


async def test_an_api_key_reaches_the_server_as_a_bearer_token_and_is_never_shown(
    settings, proxy, pki, caplog
):
    caplog.set_level(logging.DEBUG)
    await start_and_describe(await connect(with_api_key(settings, proxy, pki)))
    with pytest.raises(TemporalUnavailable) as refused:
        await connect(with_api_key(settings, proxy, pki, key="tk-wrong"))
    assert str(refused.value) == (
        f"Temporal at 127.0.0.1:{proxy.api_key} refused Shipmate's credentials: "
        "check SHIPMATE_TEMPORAL_API_KEY"
    )
    with pytest.raises(TemporalUnavailable, match="refused Shipmate's credentials"):
        await connect(with_api_key(settings, proxy, pki, key=None))
    doctor_says = doctor_lines(with_api_key(settings, proxy, pki))
    assert line_of(doctor_says, "namespace").endswith(" answers (TLS, API key)")
    assert API_KEY not in "\n".join(doctor_says) + caplog.text
    assert API_KEY not in repr(with_api_key(settings, proxy, pki))


def test_doctor_passes_good_mtls_settings(settings, proxy, pki):
    lines = doctor_lines(mtls(settings, proxy, pki))
    cert = line_of(lines, "temporal cert")
    assert cert.startswith(f"  ok      temporal cert  {pki}/client.pem valid until"), cert
    assert cert.endswith("(364 days)")
    key = f"  ok      temporal key   {pki}/client.key is the certificate's key"
    assert line_of(lines, "temporal key") == key
    ca = f"  ok      temporal ca    {pki}/ca.pem: 1 CA certificate(s)"
    assert line_of(lines, "temporal ca") == ca
    assert line_of(lines, "namespace") == (
        f"  ok      namespace      'default' at 127.0.0.1:{proxy.mtls} answers "
        "(TLS, client certificate)"
    )
    assert not any("temporal port" in line for line in lines)  # not the dev server's port


def test_doctor_names_an_expired_a_soon_expiring_and_a_missing_certificate(settings, proxy, pki):
    expired = doctor_lines(mtls(settings, proxy, pki, cert="expired"))
    cert = line_of(expired, "temporal cert")
    assert cert.startswith(f"  missing temporal cert  {pki}/expired.pem expired on"), cert
    assert line_of(expired, "namespace").startswith("  missing namespace      TLS with Temporal")
    expiring = doctor_lines(mtls(settings, proxy, pki, cert="expiring"))
    assert " expires in 4 day(s) " in line_of(expiring, "temporal cert")
    assert line_of(expiring, "temporal cert").startswith("  warning temporal cert")
    missing = mtls(settings, proxy, pki, temporal_tls_cert=pki / "gone.pem")
    assert line_of(doctor_lines(missing), "temporal cert") == (
        f"  missing temporal cert  SHIPMATE_TEMPORAL_TLS_CERT: cannot read {pki}/gone.pem: "
        "No such file or directory"
    )
    other_key = doctor_lines(mtls(settings, proxy, pki, temporal_tls_key=pki / "expired.key"))
    assert "is not the key of" in line_of(other_key, "temporal key")
    assert "TLS_KEY is not the certificate's key" in line_of(other_key, "namespace")


def test_doctor_reads_the_expiry_with_openssl_where_cryptography_is_missing(pki, monkeypatch):
    expected = doctor.certificate_expiry((pki / "client.pem").read_bytes(), pki / "client.pem")
    monkeypatch.setitem(sys.modules, "cryptography", None)  # import fails as if not installed
    assert doctor.certificate_expiry(b"", pki / "client.pem") == expected


def test_doctor_on_the_command_line_checks_the_api_key_without_printing_it(proxy, pki):
    result = _shipmate(
        "doctor",
        SHIPMATE_TEMPORAL_ADDRESS=f"127.0.0.1:{proxy.api_key}",
        SHIPMATE_TEMPORAL_TLS_CA=str(pki / "ca.pem"),
        SHIPMATE_TEMPORAL_API_KEY=API_KEY,
        SHIPMATE_TEMPORAL_NAMESPACE="no-such-namespace",
    )
    assert result.returncode == 1
    assert "ok      temporal ca" in result.stdout
    # the proxy let the call through, so the key went along: the server itself answered
    assert (
        f"missing namespace      'no-such-namespace' does not exist at 127.0.0.1:{proxy.api_key}"
        in result.stdout
    )
    assert API_KEY not in result.stdout + result.stderr
