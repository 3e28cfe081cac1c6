"""What a load test asks for: 'load test orders-api in staging for 2 minutes with 100 users'.

Only names and numbers are read here: which service (named the way Shipmate names them,
or a word that is one of its services), which environment, how long and how many users.
A URL in the text is never a target: the worker finds the address in its own records.

Talk about load tests is not a request for one ('who ran the stress test yesterday?',
'don't load test prod', 'what's the p95 of orders-api?'): `asked` is true only for an
imperative or a question that wants a run ('hammer orders-api', 'why is orders-api
slow?', 'can orders-api handle 500 users?'); see load_asks. The figures are read by
load_figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from understanding.load_asks import asks_for_a_run, reads_like_a_build, reads_like_a_review
from understanding.load_figures import seconds_asked, users_asked
from workflows.environments import environments_named

# Named the way Shipmate names services: orders-api, billing-service ('load-test' is not).
SERVICE = re.compile(r"\b([a-z][a-z0-9-]{0,60}-(?:api|service|svc|backend|server|app))\b")
LONGEST = 2000  # characters read: an ask is short, and a pasted log is no ask
URL = re.compile(r"<?https?://[^\s>|]+")
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
    review_first: bool = False  # 'review …': a review that mentions load tests
    url: str | None = None  # named instead of a service: never loaded, but asked about
    words: list[str] = field(default_factory=list)  # to find a service named otherwise


def read_load(text: str) -> LoadAsk:
    said = " ".join(re.sub(r"<[@#!][^>]*>", " ", text[:LONGEST]).lower().split())
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
        seconds=seconds_asked(plain),
        users=users_asked(plain),
        asked=asked,
        describes_a_build=build,
        review_first=reads_like_a_review(said),
        url=url.group(0).strip("<>") if url else None,
        words=words,
    )


def _without_test_words(said: str) -> str:
    """'test it with 1k users' names no environment; 'the test env', 'in test' do; so does
    the testing environment, and pre-production is staging."""
    said = re.sub(r"\bpre-?prod(?:uction)?\b", " staging ", said)
    said = re.sub(r"\b(?:produ[cç][aã]o|producci[oó]n|produktion)\b", " prod ", said)
    said = re.sub(r"\btesting\s+env", " test env", said)
    said = KIND_OF_TEST.sub(" ", said)
    said = re.sub(r"\btest\b(?=\s+(?:the|it|this|that|with|w/|how|its|our|my)\b)", " ", said)
    return re.sub(r"(?<!\bin )(?<!\bon )(?<!\bto )(?<!against )\btest\b(?!\s*env)", " ", said)
