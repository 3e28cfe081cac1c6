"""Which of Shipmate's modes a request asks for: build (the default), review, optimize,
integrate, or something Shipmate does not do at all.

Read before any entity is: "Review my API for security issues" is a review, not an
entity called Review, and "set up CI/CD for our repo" is an honest "not something I
do", not a service. A build request that only mentions these words in passing ("an
API for code reviews: reviews have rating and body", "publish order changes to SQS")
stays a build: the mode verbs count only where they lead the request or take an
object that is code, a service or an outside system.

Until a mode exists, its answer says so and names what Shipmate can do instead; a
review or a load test that names nothing to read or load is asked which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    review = "review"
    optimize = "optimize"
    integrate = "integrate"
    elsewhere = "elsewhere"


@dataclass(frozen=True)
class ModeRequest:
    mode: Mode
    service: str | None
    answer: str


LEAD = (
    r"^(?:(?:hey|hi|ok|so|please|pls|plz|can you|can u|could you|could u|would you|i need you to|"
)
LEAD += r"i want you to|i'd like you to|we need you to|help me|can we|let's|lets)[,\s]+)*"
# A service is named the way Shipmate names them: orders-api, billing-service.
SERVICE = re.compile(r"\b([a-z][a-z0-9-]{0,60}-(?:api|service|svc|backend|server|app))\b")
CODE = r"(?:code|api|apis|service|services|endpoints?|repo|repository|backend|pr|pull request|"
CODE += r"schema|queries|query|migrations?|handlers?|routes?|auth|[a-z0-9]+-[a-z0-9-]+)"

# "review my API", "audit orders-api": a verb that leads, with an object that exists.
OWNED = r"\s+(?:my|our|the|this|that|these|those|[a-z0-9]+-[a-z0-9-]+)\b"
REVIEW = [
    rf"{LEAD}(?:review|audit|critique|assess|inspect|sanity.check){OWNED}",
    rf"{LEAD}(?:look over|check over|go over|go through|look through|read through){OWNED}",
    rf"\b(?:review|audit|critique|inspect|look over|check)\s+(?:my|our|the|this|that)\s+"
    rf"(?:\w+\s+){{0,2}}{CODE}\b",
    rf"\b(?:take a look|have a look|look|go through|read through|dig through)\s+(?:at\s+)?"
    rf"(?:\w+\s+){{0,3}}{CODE}\b.*\b(?:off|wrong|bad|issues?|problems?|improve|tell me|"
    r"point out|feedback|later)\b",
    r"\bcode review\b(?!s)|\b(?:pr|pull request|merge request|mr)\s+review\b|"
    r"\breview\s+(?:this|my|our|the)?\s*(?:pr|pull request|diff|branch|commit)\b|/pull/\d+",
    r"\b(?:is|are)\s+(?:the\s+)?code\b.*\b(?:any good|ok|okay|fine|clean|messy|solid)\b",
    r"\b(?:security|vulnerabilit(?:y|ies)|owasp|injection|xss|csrf)\b.*\b(?:issues?|holes?|"
    r"problems?|scan|check|review|audit|risks?)\b",
    r"\b(?:sql injection|xss|csrf|vulnerab\w*|security (?:holes?|issues?|risks?))\b.*\bin\s+"
    r"[a-z0-9]+-[a-z0-9-]+",
    r"\bwhat(?:'s| is) wrong with\b",
    r"\b(?:any|find)\s+(?:bugs|issues|problems|smells)\s+in\b",
    # what to review can be a link, pasted code or a file: "review <https://…>", "```…```"
    rf"{LEAD}(?:review|audit|critique|inspect|look over|check over|go over)\s+(?:<?https?://|`)",
    rf"{LEAD}(?:review|audit|look over)\s+(?:it|them|this|that)\s*(?:[?.!]|$|```|for\b)",
    r"\b(?:is|are)\s+(?:my\s+|our\s+|the\s+)?[a-z0-9]+-[a-z0-9-]+\s+(?:code\s+)?"
    r"(?:secure|safe|vulnerable|any good|well written|production ready|ready for production)\b",
    # architecture: how a service (or a monolith) splits into services
    r"\b(?:refactor|split|break up|break apart|carve up|decompose|rewrite)\b.*"
    r"\b(?:monolith\w*|microservices|codebase|into (?:\w+\s+)?services)\b",
    r"\b(?:monolith\w*)\b.*\bmicroservices\b",
    r"\bservice boundaries\b|\barchitecture review\b",
]
OPTIMIZE = [
    r"\bwhy is\b.*\bslow\b",
    r"\b(?:is|are|got|getting|feels?|seems?|runs?|running|gone)\s+"
    r"(?:\w+ly\s+|really\s+|very\s+|so\s+|too\s+|kind of\s+|a bit\s+|way\s+)?slow\b",
    r"\bload[- ]?test|\bstress[- ]?test|\bbenchmark\b|\bperf(?:ormance)? test",
    r"\b(?:speed\s+(?:\w+\s+){0,3}up|make .{1,40} faster|optimi[sz]e|profile|tune)\b",
    r"\b(?:latency|p9[59]|p50|throughput|bottlenecks?|slow quer(?:y|ies)|n\+1)\b",
    r"\btimes? out\b|\btiming out\b|\bunder (?:heavy )?load\b",
    r"\b(?:memory|cpu|ram|heap)\b.*\b(?:climb\w*|grow\w*|leak\w*|pegged|spik\w*|high|"
    r"100%|maxed|full)\b|\boom[- ]?kill\w*|\bout of memory\b",
    r"\bhow (?:many|much) (?:requests|traffic|load|rps|users)\b.*\b(?:handle|take|cope)\b",
    # 'hammer billing-service on prod', 'throw 500 users at orders-api', 'stress tset it'
    rf"{LEAD}(?:an?\s+|another\s+)?(?:quick\s+|short\s+|small\s+)?(?:hammer|stress|pound|"
    r"blast|flood|bench|throw\b.*\bat|put (?:some )?load on|(?:load|stress|perf)[- ]?t[es]{2}t)\b",
    r"\b(?:can|could|will|would)\s+(?:[a-z0-9-]+|<?https?://\S+)\s+(?:handle|take|cope with|"
    r"survive|sustain)\s+"
    r"(?:\d+|a lot|lots|heavy|that much)",
    r"\bwhat'?s slowing\b|\bslowing (?:down )?[a-z0-9]+-[a-z0-9-]+",
]
# "integrate it with a PostgreSQL database" is where a service keeps its data: a build.
TO_A_DATABASE = r".*\b(?:with|to)\s+(?:an?\s+|the\s+|our\s+|my\s+)?"
TO_A_DATABASE += r"(?:postgres\w*|mysql|mariadb|sqlite|(?:sql\s+)?database|db)\b"
INTEGRATE = [
    r"\b(?:consumers?|consume|subscribe[sd]?\s+to|listen(?:s|ing)?\s+(?:to|for))\b",
    r"\bevent[- ]driven\b",
    r"\b(?:emit|publish|send|push|fire|raise)\w*\b.*\b(?:events?|messages?)\b.*"
    r"\b(?:whenever|every time|each time|when)\b",
    r"\bevents?\b.*\bflow\w*\s+(?:in)?to\b",
    r"\b(?:webhooks?\s+from|stripe|twilio|sendgrid)\b",
    r"\bevents?\s+between\b|\bbetween\s+(?:the\s+)?(?:two\s+)?services\b",
    # an event out of a service that exists: 'when an order is created in orders-api, …'
    r"\b(?:publish|emit|send|push|fire|raise)\w*\b.*\b(?:events?|messages?)\b.*"
    r"\b[a-z0-9]+-(?:api|service|svc|backend|app)\b",
    r"\b[a-z0-9]+-(?:api|service|svc|backend|app)\b.*\b(?:publish|emit|send|push|fire|raise)"
    r"\w*\b.*\b(?:events?|messages?)\b",
    rf"{LEAD}(?:integrate|connect|wire(?: up)?|hook up|link)\b(?!{TO_A_DATABASE})",
]
ELSEWHERE = [
    r"\b(?:ci/cd|ci|cd|ci\s+pipeline|github actions?|gitlab[- ]ci|jenkins|circleci|pipeline)\b"
    r"(?!.*\b(?:have|has|with fields)\b)",
    r"\b(?:css|html|footer|header|navbar|stylesheet|dashboard page|react|vue|angular|"
    r"svelte|tailwind)\b(?!.*\b(?:have|has)\b)",
    r"\bmigrat\w*\b.*\bdata\b.*\b(?:in)?to\b",
    r"\bwrite\s+(?:some\s+|the\s+|unit\s+|integration\s+|e2e\s+)*tests?\s+for\b",
    r"\b(?:migrate|upgrade|back ?up|restore)\s+(?:my|our|the)\s+(?:[\w-]+\s+){0,2}"
    r"(?:mysql|postgres\w*|database|db|server|cluster)\b",
    r"\b(?:laptop|wi-?fi|printer|vpn|password|jira|meeting room|calendar invite|spreadsheet|"
    r"slide deck|onboarding doc\w*)\b",
    rf"{LEAD}(?:translate|book|reset|schedule|summari[sz]e|proofread|email|order lunch)\b"
    r"(?!\s+(?:api|service|backend)\b)",
    r"\b(?:terraform|ansible|helm chart)\s+for\s+(?:my|our)\b",
    r"\b(?:write|update|draft|proofread)\b.*\b(?:docs|documentation|wiki|readme|blog post|"
    r"release notes|newsletter|slides)\b",
    r"\b(?:frontend|front-end|react app|mobile app|ios app|android app|landing page|website)\b"
    r"(?!.*\b(?:api|backend|service)\b)",
]
# A request that says what to build is a build, whatever else it mentions: a build verb
# with a service noun, 'X has/have', a field list ('plan: name, price', '(a, b)').
BUILD = re.compile(
    r"\b(?:build|create|make|scaffold|generate|spin up|set up|need|want)\b.*"
    r"\b(?:api|service|backend|microservice|app)\b"
    r"|\b(?:have|has|belongs? to)\b|\bfields?\b|\bentit(?:y|ies)\b"
    r"|\b\w+\s*:\s*\w+(?:\s+\w+)?(?:\s*\([^)]*\))?\s*,\s*\w+"
    r"|\(\s*\w+(?:\s+\w+)?\s*,\s*\w+"
)

WHAT_I_DO = (
    "What I can do today: build a service from a description (`@shipmate build an orders "
    "api: orders have customer, total and status`), change it in its thread, roll back or "
    "tear down an environment, and say what is deployed where."
)
ANSWERS = {
    Mode.review: (
        "I can review a service of mine (`@shipmate review orders-api`, or `… v3`), a "
        "repository (`@shipmate review https://git.example.com/acme/billing.git`), a file "
        "you attach or code you paste in a code block. Which one should I read?"
    ),
    Mode.optimize: (
        "I can load test a service I deployed and say where its time goes: "
        "`@shipmate load test orders-api in staging` (or `… for 60 s with 100 users`)."
    ),
    Mode.integrate: (
        "I wire services together with events: a service publishes its changes ('publish "
        "order changes to RabbitMQ', or NATS, or SQS) and another acts on them ('build "
        "fulfillment-api: fulfillments have status; when an order is created in orders-api, "
        "create a fulfillment'). Sign-in through your identity provider is part of a "
        "build: `@shipmate build an orders api with Okta SSO: orders have total`. " + WHAT_I_DO
    ),
    Mode.elsewhere: (
        "That isn't something I do: I build and run backend services from a description, "
        "in Slack. " + WHAT_I_DO
    ),
}


def requested_mode(text: str) -> ModeRequest | None:
    """The mode a request asks for when it is not a build; None for a build."""
    said = " ".join(re.sub(r"<[@#!][^>]*>|^\s*@shipmate\b[,:]?", " ", text).lower().split())
    service = SERVICE.search(said)
    named = service.group(1) if service else None
    builds = bool(BUILD.search(said))
    for mode, patterns in (
        (Mode.review, REVIEW),
        (Mode.optimize, OPTIMIZE),
        (Mode.elsewhere, ELSEWHERE),
        (Mode.integrate, INTEGRATE),
    ):
        for pattern in patterns:
            match = re.search(pattern, said)
            if match is None:
                continue
            owned = pattern.startswith(LEAD) and pattern.endswith(OWNED)
            if builds and not owned and not named and not _loose_build(said):
                continue  # a build that mentions the word in passing
            return ModeRequest(mode, named, ANSWERS[mode])
    return None


def _loose_build(said: str) -> bool:
    """A build verb and a service noun, but nothing a service would keep ('set up GitHub
    Actions CI for our mobile app'): the mode's words decide."""
    return not re.search(
        r"\b(?:have|has|belongs? to)\b|\bfields?\b|\bentit(?:y|ies)\b|[:(]\s*\w+\s*,", said
    )
