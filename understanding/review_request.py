"""What a review request asks to read, and with what in mind.

"review orders-api v3", "is orders-api secure?", "review <https://git.example.com/a/b.git>",
code pasted in a code block, or "look over this" with a file attached: the thing to
read is a service (by name, maybe a version), a repository URL, a snippet, or a file;
the focus (security, performance, architecture) only orders what the report says
first. The service's name is checked against the services that exist by the bot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from understanding.modes import BUILD, Mode, requested_mode
from understanding.plan_language import starts_like_a_plan
from workflows.review_models import Focus

# Slack sends links as <https://…> or <https://…|label>; people paste them bare too.
URL = re.compile(r"<(https?://[^|>\s]+)(?:\|[^>]*)?>|(?<![<\w])(https?://[^\s>`]+)")
FENCE = re.compile(r"```(?:([a-zA-Z0-9_+-]+)\n)?(.*?)```", re.S)
VERSION = re.compile(r"\b(?:v|version\s+)(\d{1,4})\b", re.I)
NAMED = re.compile(
    r"\b([a-z][a-z0-9]*(?:-[a-z0-9]+)*-(?:api|service|svc|backend|server|app))\b", re.I
)
FOCUS_WORDS = [
    (
        Focus.security,
        r"secur\w*|insecure|vulnerab\w*|owasp|injection|xss|csrf|auth\w*|secrets?|safe|leak\w* "
        r"(?:secrets?|data|anything|tokens?|passwords?|card)|sensitive|jwt|passwords?",
    ),
    (
        Focus.performance,
        r"slow\w*|fast\w*|perf\w*|n\+1|quer(?:y|ies)|index\w*|latency|scale|scaling|efficient|"
        r"bottlenecks?|under load|fall over|req/s|rps|memory leaks?|takes? \d+ hours",
    ),
    (
        Focus.architecture,
        r"split|boundar\w*|architect\w*|microservices?|monolith\w*|decompos\w*|structure|"
        r"break (?:it|this|\w+(?:-\w+)*) up|carve|too big|separate things|its own service",
    ),
]
# More than one named ("security, perf, structure, the lot"): everything.
EVERYTHING = re.compile(r"\b(?:the lot|everything|full review|all of it|thorough)\b", re.I)
# Words a review request is made of, never a service's name.
NOT_A_NAME = {
    "review",
    "audit",
    "please",
    "code",
    "this",
    "that",
    "my",
    "our",
    "the",
    "api",
    "for",
    "security",
    "issues",
    "look",
    "over",
    "can",
    "you",
    "it",
}


@dataclass(frozen=True)
class ReviewAsk:
    service: str | None = None
    version: int | None = None
    url: str | None = None
    snippet: str | None = None
    language: str | None = None
    focus: Focus = Focus.everything
    words: tuple[str, ...] = ()  # lone words that may name a service: "review hinagies"

    @property
    def names_something(self) -> bool:
        return bool(self.service or self.url or self.snippet)


def read_review(text: str) -> ReviewAsk:
    """What `text` (as Slack sent it, escaped) asks to review."""
    snippet, language = None, None
    if fenced := FENCE.search(text):
        language, snippet = fenced.group(1), _unescape(fenced.group(2)).strip("\n") or None
    outside = FENCE.sub(" ", text)
    url = None
    if found := URL.search(outside):
        url = (found.group(1) or found.group(2)).rstrip(".,;:!?)")
    said = re.sub(r"<[@#!][^>]*>", " ", URL.sub(" ", outside))
    named = NAMED.search(said)
    version = VERSION.search(said)
    words = tuple(
        w
        for w in re.findall(r"[a-z][a-z0-9-]{2,}", said.lower())
        if w not in NOT_A_NAME and not VERSION.fullmatch(w)
    )
    return ReviewAsk(
        service=named.group(1).lower() if named else None,
        version=int(version.group(1)) if version else None,
        url=url,
        snippet=snippet,
        language=language,
        focus=_focus(said),
        words=words,
    )


def _focus(said: str) -> Focus:
    named = [focus for focus, words in FOCUS_WORDS if re.search(rf"\b(?:{words})", said, re.I)]
    if len(named) != 1 or EVERYTHING.search(said):
        return Focus.everything
    return named[0]


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# A request to read something: the cues people use around a name, a link or code.
CUE = re.compile(
    r"\b(?:re?vi?ew|reveiw|revew|audit|look (?:at|over|through)|take a look|have a look|"
    r"once[- ]over|second (?:pair of )?eyes|eyes on|sanity[- ]check|check|thoughts|opinion|"
    r"feedback|wrong|off here|obvious problems?|problems?|issues?|smells?|safe|secure|"
    r"insecure|vulnerab\w*|leak\w*|sensitive|slow|efficient|scale|bottlenecks?|fall over|"
    r"handle|break \S+ up|split|carve|too big|structure|make sense|messy|improve|"
    r"you'?d change|better|ok|okay)\b|:eyes:|👀|\?",
    re.I,
)
# Cues that ask for a reading even beside words that describe a service.
STRONG = re.compile(
    r"\b(?:re?vi?ew|reveiw|revew|audit|once[- ]over|second (?:pair of )?eyes|sanity[- ]check|"
    r"what'?s wrong|anything wrong|vulnerab\w*|insecure|make sense|its own service|carve|"
    r"take a look|have a look|look (?:at|over|through)|check(?! (?:on )?(?:the )?status))\b",
    re.I,
)
# Asking for something else, which may name a service or carry code: a build, a change,
# a decision, tests or a translation of the code, or the fixes of a review already made.
NOT_A_REVIEW = re.compile(
    r"^(?:(?:hey|hi|ok|so|please|pls|can you|could you)[,\s]+)*(?:build|create|make|add|remove|"
    r"drop|rename|bump|generate|use|write|convert|translate|port|deploy|promote|approve|"
    r"reject|roll ?back|tear down|delete|restart|scale|show|list|fix|go ahead)\b"
    r"|\b(?:apply the fix|fix the \w+ (?:issues|problems|findings)|last review|status of|"
    r"what'?s (?:deployed|running|live)|who approved|^(?:which|what) (?:version|envs?)|"
    r"^(?:did|has|is) (?:my |the )?(?:deploy|\S+ deploy)|^is \S+ (?:up|down|running|live)\b|"
    r"(?:make|made) \S+ faster by|into [a-z0-9]+-[a-z0-9-]+ and [a-z0-9]+-)",
    re.I,
)
# "review" alone, or about the person's code or PR, asks even with nothing to read yet.
BARE = re.compile(
    r"^(?:re?vi?ew|code review)[.!?]?$|\b(?:re?vi?ew|look at|check)\s+(?:my|our)\s+"
    r"(?:code|pr|pull request|changes|branch|diff)\b",
    re.I,
)


def is_review(text: str, attached: bool = False) -> bool:
    """Whether `text` asks Shipmate to read code (and tell what is wrong with it)."""
    if starts_like_a_plan(re.sub(r"<@[A-Z0-9]+>", " ", text)):
        return False  # a plan typed or pasted in the plan language is built, not read
    mode = requested_mode(text)
    said = " ".join(re.sub(r"<[@#!][^>]*>", " ", FENCE.sub(" ", text)).split())
    if NOT_A_REVIEW.search(said):
        return False
    if mode is not None and mode.mode == Mode.review:
        return True
    ask = read_review(text)
    code = attached or bool(ask.snippet or ask.url)  # nothing to load-test: read it
    if mode is not None and not STRONG.search(said) and not code:
        return False  # "why is orders-api slow?" is the optimizer's, sign-in the integrator's
    readable = attached or ask.names_something
    cue = CUE.search(said)
    if cue and BUILD.search(said.lower()) and not STRONG.search(said):
        return False  # "orders-api needs a status field, ok?": a change, asked casually
    if readable and (cue or not said.strip()):
        return True
    return bool(BARE.search(said.strip()))
