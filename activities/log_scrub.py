"""Scrub secrets from log tails before they leave a worker.

A failed stage's log tail (build and test output, a failed deploy's container or
CloudWatch lines) becomes the ApplicationError's details, and so the delivery's status,
the Slack thread and the Temporal history, where anyone in the channel reads it. A
service that prints its DATABASE_URL, or a build step that echoes a token, must not put
them there. So every tail, and every failure message built from log lines, goes through
`scrub` on its way out: first the service's own secret values, which the caller knows
(see activities/service_secrets.py), then a table of common secret shapes. Each is
replaced with `[redacted]`; what surrounds it (a URL's user and host, a header's name, a
setting's key) stays, so the line still says what failed.

A small regex table rather than a detector library: tails are short, the shapes are few
and well known, and what must survive (ordinary words, image digests, plain URLs) is
easier to hold in a table with tests (tests/activities/test_log_tail_scrubbing.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar
from urllib.parse import quote

MARK = "[redacted]"
SHORTEST_KNOWN = 8  # a shorter "secret" would scrub ordinary words out of every line

Tail = TypeVar("Tail", str, list[str], None)

_NOT_MARKED = r"(?!\[redacted\])"
_SCHEME = r"(?:(?:bearer|basic|token|bot)\s+)"  # in an Authorization header
# Setting names that hold a secret: the name ends with one of these words.
_SECRET_KEY = (
    r"[A-Za-z0-9_.-]*?(?:password|passwd|secret|token|api[_-]?key|access[_-]?key"
    r"|private[_-]?key|credentials?)"
)

# (pattern, replacement); applied in order, the multi-line and the specific ones first.
SHAPES: list[tuple[re.Pattern[str], str]] = [
    # PEM private keys: a whole block, a block cut off by the tail's end, or its last
    # lines when the tail begins inside it
    (
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
            re.S,
        ),
        MARK,
    ),
    (
        re.compile(
            r"^(?:[ \t]*[A-Za-z0-9+/=]{16,}[ \t]*\r?\n)+-----END [A-Z0-9 ]*PRIVATE KEY-----", re.M
        ),
        MARK,
    ),
    # credentials in a URL: scheme://user:password@host keeps the user (a driver's *** too)
    (
        re.compile(
            r"\b([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@?#]*):" + _NOT_MARKED + r"(?!\*+@)[^\s/?#]+@"
        ),
        rf"\1:{MARK}@",
    ),
    # an Authorization header, whatever its scheme; a bearer token anywhere
    (
        re.compile(
            r"\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)"
            + rf"(?!{_SCHEME}?\[redacted\])({_SCHEME}?)[^\s\"',;]+",
            re.I,
        ),
        rf"\1\2{MARK}",
    ),
    (re.compile(r"\b(bearer\s+)" + _NOT_MARKED + r"[A-Za-z0-9._~+/=-]{16,}", re.I), rf"\1{MARK}"),
    # JSON Web Tokens (a JWT secret's tokens, a service's sessions)
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), MARK),
    # AWS access key ids (long-lived and session)
    (re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"), MARK),
    # Slack bot/user/app tokens, OpenAI-style API keys, GitHub tokens
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), MARK),
    (re.compile(r"\bxapp-\d-[A-Za-z0-9-]{10,}"), MARK),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"), MARK),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"), MARK),
    # password=…, "token": "…", aws_secret_access_key = …, API_KEY: … (a query's next
    # parameter, `&name=`, ends the value)
    (
        re.compile(
            r"(?<![A-Za-z0-9])("
            + _SECRET_KEY
            + r"[\"']?\s*[:=]\s*)"
            + _NOT_MARKED
            + r"(\"[^\"\n]*\"|'[^'\n]*'|(?:[^\s\"',;&)}\]]|&(?!\w+=))+)",
            re.I,
        ),
        "",  # see _key_value: a quoted value keeps its quotes
    ),
]


def _key_value(match: re.Match[str]) -> str:
    value = match[2]
    quote_mark = value[0] if value[:1] in ("'", '"') and len(value) > 1 else ""
    return f"{match[1]}{quote_mark}{MARK}{quote_mark}"


def scrub(text: str, known: Iterable[str] = ()) -> str:
    """`text` without the `known` secret values (and their URL-encoded forms) and
    without anything shaped like a secret."""
    if not text:
        return text
    values = {v for v in known if v and len(v) >= SHORTEST_KNOWN}
    values |= {quote(v, safe="") for v in values}
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, MARK)
    for pattern, replacement in SHAPES:
        text = pattern.sub(replacement or _key_value, text)
    return text


def scrub_tail(tail: Tail, known: Iterable[str] = ()) -> Tail:
    """A log tail as it leaves the worker: text stays text, lines stay lines (scrubbed
    together, so a private key spread over lines goes as one)."""
    if not tail:
        return tail
    if isinstance(tail, str):
        return scrub(tail, known)
    return scrub("\n".join(tail), known).split("\n")
