"""Which OpenID Connect issuer addresses Shipmate passes on: keys fetched over plain http
could be anyone's, so only https, or an issuer on this machine's loopback (a developer's
or a test's). An address hiding another host in its user part is refused."""

from __future__ import annotations

from urllib.parse import urlsplit

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def trusted_issuer(url: str) -> str:
    parts = urlsplit(url)
    if "@" in parts.netloc or not parts.hostname:
        raise ValueError("an issuer is an https:// address with a host and nothing before it")
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK):
        return url
    raise ValueError("an issuer must be an https:// address (http only on loopback)")
