"""Decisions people give Shipmate, and what merely sounds like one.

A decision (approve, reject, cancel, retry) is taken only from a button or from an
explicit command addressed to Shipmate: `@shipmate approve staging`, `/shipmate reject
orders-api prod: tests are flaky`. The whole message must be the command, so "lgtm but
wait for CI" or "approve staging?" is not one. Text in a Shipmate thread that sounds
like a decision without being one gets a private question with buttons, and nothing
happens until the click.

`@shipmate roll back orders-api in prod` and `tear down orders-api in staging` start a
delivery of their own, which waits for the environment's approvers like any deploy.

A small hand-written grammar, not a parsing library: six verbs, an optional
environment, service or delivery, and an optional reason after a separator. Every
phrasing that matters is a row in tests/bot/test_commands_table.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from workflows.environments import ENVIRONMENT_WORDS


class Verb(StrEnum):
    approve = "approve"
    reject = "reject"
    cancel = "cancel"
    retry = "retry"
    roll_back = "roll back"
    tear_down = "tear down"


# Commands that start a delivery of their own (it waits at a gate) instead of deciding one.
UNDOING = (Verb.roll_back, Verb.tear_down)
VERB_WORDS = {"rollback": Verb.roll_back, "teardown": Verb.tear_down}


@dataclass(frozen=True)
class Command:
    verb: Verb
    environment: str | None = None
    service: str | None = None
    delivery_id: str | None = None
    reason: str = ""


MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
SERVICE = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)+"
DELIVERY = r"delivery/[a-z0-9-]+/[a-z0-9-]+"
FILLER = r"(?:the|this|that|it|deploy|deployment|delivery|gate|release|to|for|of|in|on)"
TARGET = rf"(?:{DELIVERY}|{SERVICE}|[a-z]+)"
# A reason or comment follows a colon, a comma, a dash or "because".
SEPARATOR = r"(?:\s*[:,;]\s*|\s+(?:-|–|—)\s+|\s+because\s+|\s+reason:?\s+)"
COMMAND = re.compile(
    rf"^(?:please\s+)?(?P<verb>approve|reject|cancel|retry|roll\s*back|tear\s*down)"
    rf"(?P<args>(?:\s+{TARGET})*?)"
    rf"(?:{SEPARATOR}(?P<reason>.*?))?"
    rf"(?:\s+please)?[.!]?$",
    re.DOTALL | re.IGNORECASE,
)
# A comment that makes an approval conditional is not an approval.
CONDITIONAL = re.compile(r"^(but|after|once|when|if|unless|until|not|wait|hold)\b")

# Words that sound like a decision when said casually.
SOUNDS_LIKE = [
    (Verb.approve, r"approve[sd]?|approving|lgtm|looks good|ship it|go ahead|good to go|\+1"),
    (Verb.reject, r"reject(?:ed)?|deny|denied|decline[d]?|do not ship|don'?t ship"),
    (Verb.cancel, r"cancel(?:led)?|stop|abort|halt|kill it"),
    (Verb.retry, r"retry|try again|re-?run"),
]
QUESTION = re.compile(r"^(how|what|why|when|where|who|can|could|should|do|does|is|are)\b")


def without_mentions(text: str) -> str:
    return " ".join(MENTION.sub(" ", text).split())


def parse_command(text: str) -> Command | None:
    """The explicit command this text is (mentions of Shipmate removed), or None."""
    clean = without_mentions(text).strip()
    match = COMMAND.match(clean)
    if match is None:
        return None
    word = "".join(match["verb"].lower().split())
    verb = VERB_WORDS.get(word) or Verb(word)
    reason = (match["reason"] or "").strip()
    if CONDITIONAL.match(reason.lower()) or clean.endswith("?"):
        return None
    environment = service = delivery_id = None
    bare: list[str] = []  # 'tear down hinagys in staging': a name, misspelt or short
    for word in (match["args"] or "").lower().split():
        if re.fullmatch(DELIVERY, word):
            delivery_id = word
        elif word in ENVIRONMENT_WORDS and environment is None:
            environment = ENVIRONMENT_WORDS[word]
        elif re.fullmatch(SERVICE, word) and service is None:
            service = word
        elif not re.fullmatch(FILLER, word):
            bare.append(word)
    if verb in UNDOING and service is None and len(bare) == 1 and len(bare[0]) >= 3:
        service, bare = bare[0], []  # checked against the services that exist
    if bare:
        return None  # a word that is neither target nor filler: not a command
    if verb in (Verb.cancel, Verb.retry) and environment is not None:
        return None  # "cancel prod" is not a way to cancel a delivery: ask instead
    if verb in UNDOING and (delivery_id is not None or environment is None and service is None):
        return None  # an undo names what it undoes; said loosely, it is only talk
    return Command(verb, environment, service, delivery_id, reason[:500])


def sounds_like_decision(text: str) -> Verb | None:
    """The decision a casual message seems to make, for a private question; or None."""
    clean = without_mentions(text).lower()
    if QUESTION.match(clean):
        return None
    for verb, words in SOUNDS_LIKE:
        if re.search(rf"(?<![\w-])(?:{words})(?![\w-])", clean):
            return verb
    return None
