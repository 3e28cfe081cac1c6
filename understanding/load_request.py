"""What a load test asks for: 'load test orders-api in staging for 2 minutes with 100 users'.

Only names and numbers are read here: which service (named the way Shipmate names them,
or a word that is one of its services), which environment, how long and how many users.
A URL in the text is never a target: the worker finds the address in its own records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from workflows.environments import environments_named

# Named the way Shipmate names services: orders-api, billing-service ('load-test' is not).
SERVICE = re.compile(r"\b([a-z][a-z0-9]*(?:-[a-z0-9]+)*-(?:api|service|svc|backend|server|app))\b")
DURATION = re.compile(
    r"\b(\d{1,5})\s*(s|secs?|seconds?|m|mins?|minutes?|h|hours?)\b(?!\s*(?:users?|clients?))"
)
USERS = re.compile(
    r"\b(\d{1,6})\s*(?:concurrent\s+|simultaneous\s+|parallel\s+|virtual\s+)?"
    r"(?:users?|clients?|connections?|vus?)\b"
)
SECONDS_PER = {"s": 1, "m": 60, "h": 3600}
# 'load test' names no environment called test
KIND_OF_TEST = re.compile(
    r"\b(?:load|stress|perf(?:ormance)?|soak|spike|speed|smoke)[- ]?test(?:s|ed|ing)?\b"
)


@dataclass(frozen=True)
class LoadAsk:
    service: str | None  # a word shaped like a service's name
    environment: str | None
    seconds: int | None
    users: int | None
    words: list[str] = field(default_factory=list)  # to find a service named otherwise


def read_load(text: str) -> LoadAsk:
    said = " ".join(re.sub(r"<[@#!][^>]*>", " ", text).lower().split())
    without_links = re.sub(r"https?://\S+", " ", said)
    named = SERVICE.search(without_links)
    seconds = None
    if duration := DURATION.search(without_links):
        seconds = int(duration.group(1)) * SECONDS_PER[duration.group(2)[0]]
    users = int(match.group(1)) if (match := USERS.search(without_links)) else None
    environment = next(iter(environments_named(KIND_OF_TEST.sub(" ", without_links))), None)
    words = re.findall(r"[a-z][a-z0-9-]*", without_links)
    return LoadAsk(named.group(1) if named else None, environment, seconds, users, words)
