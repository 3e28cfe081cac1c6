"""Whether a message asks for a load-test run now, wherever in it the ask stands.

People put the context first and the ask last ('billing-service takes 6 s on stage, can
you hammer it with 300 users'), ask in questions ('can geo-lookup survive 10k users?',
'is it fast enough for launch?'), or write no verb at all ('kitchen-backend dev, 20
users, 5 min, go'). Talk about a run is not an ask: a negation ('don't load test prod'),
one that happened ('who ran the stress test yesterday?'), a metric asked for ('what's
the p95 of payments-api?') or thanks. A build's description that mentions load or users
is not one either: that is decided by the caller, which knows the message's mode.
"""

from __future__ import annotations

import re

TEST = r"(?:lo+a?d|stress|perf(?:ormance)?|soak|spike)[- ]?(?:t[aeis]{0,2}s?t|test)(?:s|ing)?"
USERS = (
    r"\d[\d.,]*\s*k?\s*(?:concurrent\s+|simultaneous\s+|parallel\s+|virtual\s+)?"
    r"(?:users?|usrs?|clients?|connections?|vus?|concurrent|simultaneous)\b"
)
STRONG = [
    rf"\b{TEST}\b",
    r"\bloadtest\w*|\bbenchmark\b(?!-)|\bbench\s+[a-z0-9]",
    r"\b(?:hammer|blast|pound|flood|stress|swarm)\s+(?!test)\S",
    r"\bthrow\b.*\bat\b",
    r"\bhit\s+(?:\d{1,3}\.\d|[a-z0-9]+-[a-z0-9-]+|https?://|<https?://|it\b|localhost)",
    r"\bput\s+(?:some\s+|a lot of\s+)?(?:load|traffic|pressure)\s+on\b",
    r"\breproduce\s+(?:that|the|this|our|such)\s+(?:load|traffic|spike)",
    r"\bunder\s+(?:heavy\s+|real\s+|some\s+)?load\b|\bthe charge of\b",
    r"\bhow\s+(?:much|many)\s+(?:traffic|load|users|requests|rps|req/s|concurrent)\b",
    r"\b(?:can|could|will|would|does|do)\s+(?:it|this|that|[a-z0-9][a-z0-9.:/-]*)\s+"
    r"(?:handle|survive|take|cope with|sustain|withstand|deal with|hold up)\b",
    r"\bfast enough\b|\bready for (?:launch|black friday|peak|the traffic)",
    rf"\b(?:test|try|check|run)\s+(?:it\s+|this\s+)?(?:with|w/|using)\s+(?:like\s+|~|about\s+)?{USERS}",
    r"\b(?:check|see|test|evaluate|measure|find out)\s+how\s+(?:it|this|[a-z0-9-]+)?\s*"
    r"(?:\w+\s+){0,2}(?:behaves|performs|holds up|handles|scales|copes)",
    r"\bwhy\b.*\b(?:slow|sluggish|laggy|crawl\w*|lag\w*|choke\w*|timing out|times out)\b",
    r"\b(?:slow|sluggish|laggy|crawl\w*)\b.*\b(?:find out|figure out|look into|dig into|"
    r"check|investigate)\b",
    r"\b(?:find|figure)\s+out\s+(?:why|what'?s|where)\b|\bwhat'?s\s+(?:slowing|making)\b",
    r"\bbottleneck\w*\b|\bwhere\s+it\s+chokes\b",
    r"\bspeed\s+(?:\S+\s+){0,3}up\b|\boptimi[sz]e\b|\bmake\b.{1,40}\bfaster\b",
]
STRONG_ASK = re.compile("|".join(f"(?:{p})" for p in STRONG))
# No verb at all: a service's numbers for a run ('orders-api dev, 20 users, 5 min, go').
BARE = re.compile(rf"{USERS}.*\b(?:go|now|pls|please)\b|\b\d+\s*(?:s|sec|min|m)\b.*{USERS}")
NEGATED = re.compile(
    r"^(?:please\s+|pls\s+)?(?:don'?t|do not|never|no need to|stop|no more|not yet)\b|"
    r"\b(?:don'?t|do not|never|not|no)\s+(?:\w+\s+){0,2}(?:load|stress|hammer|benchmark|"
    r"test|run|touch|hit)\w*\b|\bnot (?:yet|now|until|before)\b|\b(?:after|until) the freeze\b|"
    r"\bhold off\b|\bwait (?:until|till|for)\b"
)
# About a run that happened, its results or the mode itself: not a new run.
ABOUT_A_RUN = re.compile(
    r"\bwho\s+(?:ran|started|kicked off|did|triggered|launched|fired)\b|\bhow did\b|"
    r"\bresults?\b|\breport\b|\b(?:earlier|yesterday'?s?|last (?:night|week|time|run)|previous|"
    r"the one you ran)\b.*\b(?:{t}|run|benchmark)|\b(?:{t}|run|benchmark)\b.*\b(?:earlier|"
    r"yesterday|last (?:night|week|time)|was|were|went)\b|"
    r"\b(?:is|has|was)\s+(?:the|that|my|our|it)\b.*\b(?:finished|done|over|complete|still "
    r"running|running)\b".replace("{t}", TEST)
)
# What the mode can do, asked: answered, never run ('can you do load testing?').
CAPABILITY = re.compile(
    rf"\bwhat\s+(?:does|is|can)\b.*\bmode\b|\bcan you do\s+(?:\w+\s+)?{TEST}\s*\?|"
    r"\bdo you (?:do|support)\b"
)
# Asking for a run all the same ('it was slow yesterday, can you run it again').
IMPERATIVE = re.compile(
    r"\b(?:(?:can|could|would|will)\s+(?:you|u)|pls|plz|please|go ahead and)\s+"
    rf"(?:please\s+)?(?:\w+\s+)?(?:run|rerun|do|{TEST}|load|stress|hammer|test|try|kick|start|"
    r"launch|benchmark|bench|blast|hit|check)\b|^(?:run|rerun|re-run|kick off|start|launch|"
    r"try)\b|\b(?:again|another one|a new one)\b"
)


def asks_for_a_run(said: str) -> bool:
    """`said`: the message in lower case, mentions removed."""
    if NEGATED.search(said) or CAPABILITY.search(said):
        return False
    if not (STRONG_ASK.search(said) or BARE.search(said)):
        return False
    return ABOUT_A_RUN.search(said) is None or bool(IMPERATIVE.search(said))


# A build's description ('build a stress-level tracker: entries have level and note').
SPEC_SHAPED = re.compile(
    r"^(?:please\s+|pls\s+)?(?:build|create|scaffold|generate|spin up|set up|make (?:me\s+)?an?|"
    r"add)\b|\b(?:have|has|belongs? to)\b|\bfields?\b|\bentit(?:y|ies)\b"
)


def reads_like_a_build(said: str) -> bool:
    return bool(SPEC_SHAPED.search(said))
