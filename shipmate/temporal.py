"""Connecting to Temporal, with the pydantic data converter every side agrees on.

With SHIPMATE_PAYLOAD_KEYS set, that converter encrypts every payload (and the
messages of failures) on the way in and decrypts it on the way out
(shipmate.payload_codec); every client and worker is made here, so all of them do.

A local dev server takes plain connections; a production cluster or Temporal Cloud
wants TLS, a client certificate (mTLS) or an API key. What Client.connect is given
for the settings is decided in `connection_options` alone, and a mistake a person can
make in those settings becomes one line naming the setting, never a traceback.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.service import TLSConfig

from shipmate import telemetry
from shipmate.payload_codec import EncryptionCodec, parse_keys
from shipmate.settings import Settings

TLS_SETTINGS = "SHIPMATE_TEMPORAL_TLS_CERT, _KEY, _CA and _SERVER_NAME"
CERT_AND_KEY = "SHIPMATE_TEMPORAL_TLS_CERT and SHIPMATE_TEMPORAL_TLS_KEY"

# What the TLS stack's error says, and what a person should do about it (first match).
TLS_FAILURES = [
    ("CertificateRequired", f"the server requires a client certificate: set {CERT_AND_KEY}"),
    (
        "UnknownIssuer",
        "the server's certificate is not signed by a trusted CA: "
        "check SHIPMATE_TEMPORAL_TLS_CA (unset: the system's roots)",
    ),
    (
        "NotValidForName",
        "the server's certificate is not for this name: "
        "check SHIPMATE_TEMPORAL_TLS_SERVER_NAME and SHIPMATE_TEMPORAL_ADDRESS",
    ),
    ("InconsistentKeys|KeyMismatch", "SHIPMATE_TEMPORAL_TLS_KEY is not the certificate's key"),
    (
        "InvalidContentType",
        "the server there does not speak TLS: check SHIPMATE_TEMPORAL_ADDRESS "
        "(a local dev server takes none of the TLS settings)",
    ),
    ("Expired", f"a certificate has expired: check {TLS_SETTINGS}"),
    ("alert", f"the server refused the client certificate: check {CERT_AND_KEY}"),
    ("(?i)certificate|tls|handshake", f"check {TLS_SETTINGS}"),
]
# How a TLS 1.3 server's refusal of a client certificate often reaches the client: a
# connection dropped after the handshake, seen while writing, reading, or before HTTP/2
# was ready.
CLOSED = "BrokenPipe|ConnectionReset|connection closed|connection was not ready"


class TemporalUnavailable(Exception):
    """The workflow engine did not answer; the message says where Shipmate looked."""


def uses_tls(settings: Settings) -> bool:
    """TLS is on when asked for, and whenever a certificate, a CA or an API key is set."""
    return settings.temporal_tls or any(
        (
            settings.temporal_tls_cert,
            settings.temporal_tls_key,
            settings.temporal_tls_ca,
            settings.temporal_api_key,
        )
    )


def tls_config(settings: Settings) -> TLSConfig | bool:
    """The TLS Client.connect is given: False for a plain connection."""
    if not uses_tls(settings):
        return False
    if bool(settings.temporal_tls_cert) != bool(settings.temporal_tls_key):
        raise TemporalUnavailable(
            f"{CERT_AND_KEY} go together: "
            "a client certificate needs its key, and a key its certificate"
        )
    return TLSConfig(
        client_cert=read_pem(settings, "temporal_tls_cert"),
        client_private_key=read_pem(settings, "temporal_tls_key"),
        server_root_ca_cert=read_pem(settings, "temporal_tls_ca"),
        domain=settings.temporal_tls_server_name,
    )


def read_pem(settings: Settings, name: str) -> bytes | None:
    """The PEM file a setting names; what is wrong with it names the setting, never its text."""
    path = getattr(settings, name)
    if path is None:
        return None
    variable = f"SHIPMATE_{name.upper()}"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TemporalUnavailable(f"{variable}: cannot read {path}: {exc.strerror}") from None
    if b"-----BEGIN " not in data:
        raise TemporalUnavailable(f"{variable}: {path} is not a PEM file")
    return data


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads; sealed with the payload keys when there are any."""
    if settings.payload_keys is None:
        return pydantic_data_converter
    codec = EncryptionCodec(parse_keys(settings.payload_keys.get_secret_value()))
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        # a failure's message and stack trace (a log tail, a spec's name) go through it too
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def connection_options(settings: Settings) -> dict[str, Any]:
    """Everything Client.connect is given besides the address: one place to add an option."""
    api_key = settings.temporal_api_key
    return {
        "namespace": settings.temporal_namespace,
        "data_converter": data_converter(settings),
        "tls": tls_config(settings),
        "api_key": api_key.get_secret_value() if api_key else None,
        "interceptors": telemetry.interceptors(),
    }


async def connect(settings: Settings) -> Client:
    options = connection_options(settings)
    try:
        return await Client.connect(settings.temporal_address, **options)
    except Exception as exc:  # the SDK raises a bare RuntimeError for refused connections
        raise TemporalUnavailable(explain(settings, str(exc))) from None


def explain(settings: Settings, error: str) -> str:
    """One line saying what failed and which settings to check."""
    where, tls = f"Temporal at {settings.temporal_address}", uses_tls(settings)
    if "Unauthenticated" in error or "PermissionDenied" in error:  # TLS worked; the server said no
        which = "" if settings.temporal_api_key else " or the client certificate"
        return f"{where} refused Shipmate's credentials: check SHIPMATE_TEMPORAL_API_KEY{which}"
    if tls and re.search(CLOSED, error):
        if settings.temporal_tls_cert:
            why = "it may refuse the client certificate (expired? another CA?): check"
        else:
            why = "if it requires a client certificate, set"
        return f"TLS with {where} failed: the server closed the connection; {why} {CERT_AND_KEY}"
    if tls and "ConnectionRefused" not in error:
        for pattern, advice in TLS_FAILURES:
            if re.search(pattern, error):
                return f"TLS with {where} failed: {advice}"
    if re.search(CLOSED, error):
        return (
            f"{where} closed the connection: if it expects TLS (Temporal Cloud does), "
            "set SHIPMATE_TEMPORAL_TLS=true or the TLS settings"
        )
    fix = "Check the address and the network." if tls else "Start it with `shipmate dev`."
    return f"cannot reach {where} (SHIPMATE_TEMPORAL_ADDRESS): {error}. {fix}"
