"""What a chat message asks for: build or change, status, deployments, history, decisions,
or another mode (review, optimize, integrate) or nothing Shipmate does.

Plain rules over the words people use; anything unrecognised is treated as a build or
change request, and the request parser asks questions if it is not one. Decisions are
not read here: only bot.commands turns words into one, and only when addressed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from understanding.modes import requested_mode
from understanding.plan_language import starts_like_a_plan
from workflows.environments import environments_named


class Intent(StrEnum):
    help = "help"
    status = "status"
    deployed = "deployed"
    history = "history"
    who_approved = "who_approved"
    approve = "approve"
    reject = "reject"
    cancel = "cancel"
    retry = "retry"
    build = "build"
    # modes of their own, answered honestly until they exist (understanding.modes)
    review = "review"
    optimize = "optimize"
    integrate = "integrate"
    elsewhere = "elsewhere"


MODES = (Intent.review, Intent.optimize, Intent.integrate, Intent.elsewhere)


@dataclass
class Reading:
    intent: Intent
    service: str | None = None
    environment: str | None = None
    reason: str = ""


# Questions about what runs: 'what's deployed?', 'is fleet-tracker up?', 'which version
# of orders-api is on staging?', 'list my services', 'what environments does X have'.
DEPLOYED = "|".join(
    [
        r"\b(what'?s|what is|what are)\s+(deployed|live|running)\b|\bdeployed where\b",
        r"\bwhere is\b.*\b(deployed|running)\b",
        r"^(?:is|are)\s+(?:the\s+)?[a-z0-9-]+(?:\s+[a-z]+)?\s+"
        r"(?:up|down|healthy|running|live|alive|ok|okay)\b",
        r"^(?:what|which)\s+versions?\s+of\b",
        r"^(?:what|which)\s+environments?\b|^where (?:does|do|is)\s+[a-z0-9-]+\s+(?:run|live)",
        r"^(?:list|show)(?:\s+me)?\s+(?:all\s+)?(?:my|our|the|all)\s+services\b",
        r"^what services\b|^which services\b",
        r"^(?:show|tell)(?:\s+me)?\s+(?:everything|all|what)\b.*\b(?:built|made|deployed|running)",
        r"^what (?:have|did) (?:you|shipmate) (?:built|build|made|make|deployed|deploy)\b",
        r"^(?:is\s+)?any(?:thing|one of them|thing else)?\s+(?:currently\s+|still\s+)?"
        r"(?:down|failing|broken|unhealthy|up)\b",
    ]
)
# 'did the billing-service deploy finish?', 'has orders-api shipped yet?'
FINISHED = (
    r"^(?:did|has|have|is)\s+the\s+(?:deploy(?:ment)?|delivery|build|release)\s+(?:of|for)\s+"
    r"[a-z0-9-]+\s+(?:finish|finished|succeed|succeeded|work|worked|land|landed|go through|"
    r"done|complete|completed)\b|"
    r"^(?:did|has|have|is)\s+(?:the\s+)?[a-z0-9-]+\s+(?:deploy(?:ment)?|delivery|build|"
    r"release)?\s*(?:finish|finished|succeed|succeeded|work|worked|land|landed|go through|"
    r"gone through|done|complete|completed|shipped|deployed)\b"
)
HISTORY = r"^when (?:was|were|did)\b.*\b(?:deployed|deploy|shipped|released|changed|updated)\b"

SERVICE_WORD = r"([a-z][a-z0-9]*(?:-[a-z0-9]+)+)"  # kebab-case names: orders-api
# "what's live?" asks about every environment; "approve live" names prod.
LIVE_AS_STATE = re.compile(r"\b(what'?s|what is|what are|is it|it'?s|are)\s+live\b")


def read(text: str) -> Reading:
    clean = re.sub(r"<@[A-Z0-9]+>", " ", text).strip().lower()
    clean = " ".join(clean.split())
    service = _service(clean)
    environment = next(iter(environments_named(LIVE_AS_STATE.sub(" ", clean))), None)
    words = clean.rstrip("?!. ")
    if starts_like_a_plan(text):
        return Reading(Intent.build, service)  # a plan typed out: whatever words it holds
    if words in ("", "help", "hi", "hello", "hey", "?") or words.startswith(("help ", "how do i")):
        return Reading(Intent.help)
    if re.match(r"^(approve|lgtm|ship it|approved)\b", words):
        return Reading(Intent.approve, service, environment)
    if match := re.match(r"^(reject|rejected|deny)\b[:,]?\s*(.*)$", words):
        return Reading(Intent.reject, service, environment, reason=match.group(2))
    if re.match(r"^(cancel|stop|abort)\b", words):
        return Reading(Intent.cancel, service, reason=words.partition(" ")[2])
    if re.match(r"^(retry|try again|rerun|re-run)\b", words):
        return Reading(Intent.retry, service)
    if re.search(r"\bwho approved\b", words):
        return Reading(Intent.who_approved, service, environment)
    if re.search(r"\b(history|changelog|versions)\b", words) or re.search(HISTORY, words):
        return Reading(Intent.history, service)
    if re.search(DEPLOYED, words):
        return Reading(Intent.deployed, service, environment)
    if re.match(
        r"^(status|state|progress|how'?s it going|how is it going|where are we)\b", words
    ) or re.search(r"\bstatus of\b|" + FINISHED, words):
        return Reading(Intent.status, service)
    if mode := requested_mode(text):
        return Reading(Intent(mode.mode.value), mode.service or service, reason=mode.answer)
    return Reading(Intent.build, service, environment)


def _service(text: str) -> str | None:
    match = re.search(SERVICE_WORD, text)
    return match.group(1) if match else None


HELP = (
    "I build and ship backend services from a conversation. Try:\n"
    "• `@shipmate build an orders API with PostgreSQL and JWT auth, deploy to staging`\n"
    "• `@shipmate user service: users have email (unique), name and role`\n"
    "• `/shipmate build a todo api`: the same, starting a thread under your request\n"
    "• in a delivery's thread: `status`, `also add a status field to orders`, "
    "`deploy it to prod too`\n"
    "• decisions, said to me or by the card's buttons: `@shipmate approve staging`, "
    "`@shipmate reject prod: reason`, `@shipmate cancel`, `@shipmate retry`; elsewhere "
    "name the service: `/shipmate approve orders-api staging`\n"
    "• anywhere: `what's deployed in prod?`, `what's running?`, `history of orders-api`, "
    "`who approved the last prod deploy of orders-api?`"
)
