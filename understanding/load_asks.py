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
    r"\d[\d.,]{0,12}\s*k?\s*(?:concurrent\s+|simultaneous\s+|parallel\s+|virtual\s+)?"
    r"(?:users?|usrs?|clients?|connections?|vus?|concurrent|simultaneous)\b"
)
STRONG = [
    rf"\b{TEST}\b",
    r"\bteste de carga\b|\bprueba de carga\b|\btest de (?:mont[ée]e en )?charge\b|\blasttest",
    r"\bloadtest\w*|\bbenchmark\b(?!-)|\bbench\s+[a-z0-9]",
    r"\b(?:hammer|blast|pound|flood|stress|swarm)\s+(?!test)\S",
    r"\bthrow\b.{0,60}\bat\b",
    r"\bhit\s+(?:\d{1,3}\.\d|[a-z0-9]+-[a-z0-9-]+|https?://|<https?://|it\b|localhost)",
    r"\bput\s+(?:some\s+|a lot of\s+)?(?:load|traffic|pressure)\s+on\b",
    r"\b(?:run|send|push|drive)\s+(?:some\s+|a lot of\s+)?(?:load|traffic)\s+"
    r"(?:against|on|at|to)\b",
    r"\breproduce\s+(?:that|the|this|our|such)\s+(?:load|traffic|spike)",
    r"\bunder\s+(?:heavy\s+|real\s+|some\s+)?load\b|\bthe charge of\b",
    r"\bhow\s+(?:much|many)\s+(?:traffic|load|users|requests|rps|req/s|concurrent)\b",
    r"\b(?:can|could|will|would|does|do)\s+(?:it|this|that|[a-z0-9][a-z0-9.:/-]*)\s+"
    r"(?:handle|survive|take|cope with|sustain|withstand|deal with|hold up)\b",
    r"\bfast enough\b|\bready for (?:launch|black friday|peak|the traffic)",
    rf"\b(?:test|try|check|run)\s+(?:it\s+|this\s+)?(?:with|w/|using)\s+(?:like\s+|~|about\s+)?{USERS}",
    r"\b(?:check|see|test|evaluate|measure|find out)\s+how\s+(?:it|this|[a-z0-9-]+)?\s*"
    r"(?:\w+\s+){0,2}(?:behaves|performs|holds up|handles|scales|copes)",
    r"\bwhy\b.{0,120}\b(?:slow|sluggish|laggy|crawl\w*|lag\w*|choke\w*|timing out|times out)\b",
    r"\b(?:slow|sluggish|laggy|crawl\w*)\b.{0,160}\b(?:find out|figure out|look into|dig into|"
    r"check|investigate)\b",
    r"\b(?:find|figure)\s+out\s+(?:why|what'?s|where)\b|\bwhat'?s\s+(?:slowing|making)\b",
    r"\bbottleneck\w*\b|\bwhere\s+it\s+chokes\b",
    r"\bspeed\s+(?:\S+\s+){0,3}up\b|\boptimi[sz]e\b|\bmake\b.{1,40}\bfaster\b",
]
STRONG_ASK = re.compile("|".join(f"(?:{p})" for p in STRONG))
# No verb at all: a service's numbers for a run ('orders-api dev, 20 users, 5 min, go').
BARE = re.compile(
    rf"{USERS}.{{0,80}}\b(?:go|now|pls|please)\b|\b\d{{1,5}}\s*(?:s|sec|min|m)\b.{{0,80}}{USERS}"
)
NEGATED = re.compile(
    r"^(?:please\s+|pls\s+)?(?:don'?t|do not|never|no need to|stop|no more|not yet)\b|"
    r"\b(?:cancel|abort|kill|halt)\b|\bstop (?:the|that|it|this)\b|"
    r"\b(?:don'?t|do not|never|not|no)\s+(?:\w+\s+){0,2}(?:load|stress|hammer|benchmark|"
    r"test|run|touch|hit)\w*\b|\bnot (?:yet|now|until|before)\b|\b(?:after|until) the freeze\b|"
    r"\bhold off\b|\bwait (?:until|till|for)\b"
)
# About a run that happened, its results or the mode itself: not a new run.
ABOUT_A_RUN = re.compile(
    r"\bwho\s+(?:ran|started|kicked off|did|triggered|launched|fired)\b|\bhow did\b|"
    r"\bresults?\b|\breport\b|\b(?:earlier|yesterday'?s?|last (?:night|week|time|run)|previous|"
    r"the one you ran)\b.{0,120}\b(?:{t}|run|benchmark)|"
    r"\b(?:{t}|run|benchmark)\b.{0,120}\b(?:earlier|"
    r"yesterday|last (?:night|week|time)|was|were|went)\b|"
    r"\b(?:is|has|was)\s+(?:the|that|my|our|it)\b.{0,120}\b(?:finished|done|over|complete|still "
    r"running|running)\b|\blast\s+(?:{t}|run|benchmark)|\bdid\b.{0,120}\b(?:{t}|run)\b|"
    r"\b(?:{t}|run)\b.{0,120}\b(?:finish|finished|done|end|complete)\s*\?".replace("{t}", TEST)
)
NOW = re.compile(r"\b(?:right now|now|asap|immediately|straight away|right away)\b")
# Asked for later, not now ('schedule a load test for Monday', 'after the migration').
LATER = re.compile(
    r"\bschedul\w*|\bsometime\b|\bno rush\b|\bat some point\b|\bnext sprint\b|"
    r"\bshould probably\b|\bwhen you (?:get a chance|have time)\b|\btomorrow\b|\btonight\b|"
    r"\blater (?:today|this week)\b|\bthis evening\b|"
    r"\bnext\s+(?:week|month|mon|tue|wed|thu|fri|sat|sun)\w*|"
    r"\bat\s+\d{1,2}(?::\d\d)?\s*(?:am|pm)\b|\b(?:after|once)\s+the\s+\w+\s+(?:finishes|is done|"
    r"completes|lands|is over)\b"
)
# What the mode can do, asked: answered, never run ('can you do load testing?').
CAPABILITY = re.compile(
    r"\bwhat\s+(?:does|is|can)\b.{0,80}\bmode\b|\bdo you (?:do|support)\b|\bexplain\b|"
    r"\bhow (?:do|does) (?:your|you|the mode)\b|"
    rf"\bcan you do\s+(?:\w+\s+)?{TEST}\s*\?|"
    rf"\bcan you\s+{TEST}\s+(?:things|stuff|anything|services|apis|my patience)\b"
)
# Asking for a run all the same ('it was slow yesterday, can you run it again').
IMPERATIVE = re.compile(
    r"\b(?:(?:can|could|would|will)\s+(?:you|u)|pls|plz|please|go ahead and)\s+"
    rf"(?:please\s+)?(?:\w+\s+)?(?:run|rerun|do|{TEST}|load|stress|hammer|test|try|kick|start|"
    r"launch|benchmark|bench|blast|hit|check)\b|(?:^|[.?!;:—-]\s*)(?:run|rerun|re-run|kick off|"
    rf"start|launch|try|{TEST})\b|\b(?:again|another one|a new one)\b"
)


def asks_for_a_run(said: str) -> bool:
    """`said`: the message in lower case, mentions removed."""
    later = LATER.search(said) and not NOW.search(said)
    if NEGATED.search(said) or CAPABILITY.search(said) or later:
        return False
    if not (STRONG_ASK.search(said) or BARE.search(said)):
        return False
    return ABOUT_A_RUN.search(said) is None or bool(IMPERATIVE.search(said))


# A review asked for first ('review the load-test code in perf-api'), not a run.
REVIEW_FIRST = re.compile(
    r"^(?:(?:hey|hi|please|pls|can you|could you|can u)[,\s]+)*(?:review|audit|critique|"
    r"look over|check over|go over|read through|inspect)\b"
)


def reads_like_a_review(said: str) -> bool:
    return bool(REVIEW_FIRST.search(said))


# A build's description ('build a stress-level tracker: entries have level and note').
SPEC_SHAPED = re.compile(
    r"^(?:please\s+|pls\s+)?(?:build|create|scaffold|generate|spin up|set up|make (?:me\s+)?an?|"
    r"add)\b|\b(?:have|has|belongs? to)\b|\bfields?\b|\bentit(?:y|ies)\b"
)


def reads_like_a_build(said: str) -> bool:
    return bool(SPEC_SHAPED.search(said))
