"""What a load test asks for: 'load test orders-api in staging for 2 minutes with 100 users'.

Only names and numbers are read here: which service (named the way Shipmate names them,
or a word that is one of its services), which environment, how long and how many users.
A URL in the text is never a target: the worker finds the address in its own records.

Talk about load tests is not a request for one ('who ran the stress test yesterday?',
'don't load test prod', 'what's the p95 of orders-api?'): `asked` is true only for an
imperative or a question that wants a run ('hammer orders-api', 'why is orders-api
slow?', 'can orders-api handle 500 users?'). Numbers that describe the slowness ('p95 is
800ms', 'checkout takes 4 seconds') are not the run's length: a length follows 'for'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from understanding.load_asks import asks_for_a_run, reads_like_a_build
from workflows.environments import environments_named

# Named the way Shipmate names services: orders-api, billing-service ('load-test' is not).
SERVICE = re.compile(r"\b([a-z][a-z0-9]*(?:-[a-z0-9]+)*-(?:api|service|svc|backend|server|app))\b")
URL = re.compile(r"<?https?://[^\s>|]+")
NUMBER = (
    r"(\d{1,5}(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|"
    r"twenty|thirty|forty|fifty|sixty|ninety|half an?|a half)"
)
WORD_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90,
}  # fmt: skip
UNIT = r"(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)\b"
# A run's length: '45s', 'for 2 minutes', 'try 30s' - but not the slowness being described
# ('takes 4 seconds', 'went from 200ms to 1.2s', 'since 2 days', 'p95 is 3s').
DURATION = re.compile(rf"(?<![\w.]){NUMBER}\s*-?\s*{UNIT}(?!\s*ago)")
DESCRIBING = frozenset(
    "takes took taking take in is are was were went from to of at after since than within "
    "under every each only just like p50 p90 p95 p99 latency about around roughly over by "
    "up down".split()
)
DESCRIBED_BY = frozenset(
    "avg average median mean response latency per each ago p50 p90 p95 p99 to".split()
)
SECONDS_PER = {"s": 1, "m": 60, "h": 3600}
# 'load test' names no environment called test
KIND_OF_TEST = re.compile(
    r"\b(?:load|stress|perf(?:ormance)?|soak|spike|speed|smoke)[- ]?t[es]{2}t(?:s|ed|ing)?\b"
)


@dataclass(frozen=True)
class LoadAsk:
    service: str | None  # a word shaped like a service's name
    environment: str | None
    seconds: int | None
    users: int | None
    asked: bool = False  # wants a run, not talk about one
    describes_a_build: bool = False  # 'build …', 'entries have …': a build's description
    url: str | None = None  # named instead of a service: never loaded, but asked about
    words: list[str] = field(default_factory=list)  # to find a service named otherwise


def read_load(text: str) -> LoadAsk:
    said = " ".join(re.sub(r"<[@#!][^>]*>", " ", text).lower().split())
    said = re.sub(r"^@shipmate\b[,:]?\s*", "", said)
    url = URL.search(said)
    plain = URL.sub(" ", said)
    named = SERVICE.search(plain)
    environment = next(iter(environments_named(_without_test_words(plain))), None)
    words = re.findall(r"[a-z][a-z0-9-]*[a-z0-9]|[a-z]", plain)
    asked = asks_for_a_run(said)
    build = reads_like_a_build(said)
    return LoadAsk(
        service=named.group(1) if named else None,
        environment=environment,
        seconds=_seconds(plain),
        users=_users(plain),
        asked=asked,
        describes_a_build=build,
        url=url.group(0).strip("<>") if url else None,
        words=words,
    )


def _without_test_words(said: str) -> str:
    """'test it with 1k users' names no environment; 'the test env', 'in test' do."""
    said = KIND_OF_TEST.sub(" ", said)
    said = re.sub(r"\btest\b(?=\s+(?:the|it|this|that|with|w/|how|its|our|my)\b)", " ", said)
    return re.sub(r"(?<!\bin )(?<!\bon )(?<!\bto )(?<!against )\btest\b(?!\s*env)", " ", said)


def _seconds(said: str) -> int | None:
    for match in DURATION.finditer(said):
        after = said[match.end() :].split()[:1]
        if after and after[0].strip(",.;)") in DESCRIBED_BY:
            continue  # '1.2s avg', '3s response'
        before = [word.strip("(,;:") for word in said[: match.start()].split()]
        hedges = ("about", "around", "roughly", "~")
        while before and before[-1] in hedges and len(before) > 1 and before[-2] == "for":
            before.pop()  # 'for about 2 minutes' is a length
        if before and before[-1] in DESCRIBING:
            continue
        amount, unit = match.group(1), match.group(2)
        if amount.startswith("half") or amount == "a half":
            value = 0.5
        else:
            value = WORD_NUMBERS.get(amount) or float(amount)
        return round(value * SECONDS_PER[unit[0]])
    return None


def _users(said: str) -> int | None:
    """'300 concurrent', '2k users', '1.5k users', '40 vus', '50 simultaneous connections'."""
    match = re.search(
        r"(?<![\w.])(\d{1,6}(?:\.\d+)?)\s*(k)?\s*(?:(?:concurrent|simultaneous|parallel|virtual)"
        r"\s+)?(?:users?|usrs?|clients?|connections?|vus?)\b"
        r"|(?<![\w.])(\d{1,6}(?:\.\d+)?)\s*(k)?\s+(?:concurrent|simultaneous)\b",
        said,
    )
    if match is None:
        return None
    number, thousands = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
    return round(float(number) * (1000 if thousands else 1))
