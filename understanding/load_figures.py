"""The figures of a load-test ask: how long ('for 2 minutes', '90s', '1h30m', 'half an hour')
and how many users ('300 concurrent', '2k users', '3,000 users', 'a hundred users').

Messages are full of other numbers: the slowness being described ('takes 4 seconds',
'p95 2.1s', '1.2s avg', 'login taking 3-4 sec'), errors ('502s'), money ('$2.4M'),
versions and times. Those are skipped by what stands around them.
"""

from __future__ import annotations

import re

WORD_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "a hundred": 100, "one hundred": 100,
    "a thousand": 1000, "one thousand": 1000,
}  # fmt: skip
SPELLED = "|".join(sorted((re.escape(w) for w in WORD_NUMBERS), key=len, reverse=True))
DIGITS = r"\d{1,3}(?:,\d{3})+|\d{1,6}(?:\.\d+)?"
UNIT = (
    r"(s|secs?|seconds?|segundos?|sekunden|m|mins?|minutes?|minutos?|minuten|h|hrs?|hours?|"
    r"horas?|heures?|stunden)(?:\b|(?=\d))"
)
# Not inside a word, a version, a range ('3-4 sec') or an amount of money ('$2.4M').
FREE = r"(?<![\w.$\-/:])"
DURATION = re.compile(  # '1h30m' and '2m30s' too: the second part is the next unit down
    rf"{FREE}(half an?|a half|{DIGITS}|{SPELLED})\s*-?\s*{UNIT}(?!\s*ago)"
    r"(?:\s*(\d{1,2})\s*(?:m|s)\b)?"
)
DESCRIBING = frozenset(
    "takes took taking take in is are was were went from to of at after since than within "
    "under every each only just like p50 p90 p95 p99 latency about around roughly by up down "
    "seeing getting got returns returning".split()
)
DESCRIBED_BY = frozenset(
    "avg average median mean response latency per each ago p50 p90 p95 p99 to".split()
)
FOR = ("for", "over", "during", "durante", "pendant", "für")
SECONDS_PER = {"s": 1, "m": 60, "h": 3600}
USERS = re.compile(
    rf"{FREE}({DIGITS}|{SPELLED})\s*(k)?\s*(?:(?:concurrent|simultaneous|parallel|virtual)\s+)?"
    r"(?:users?|usrs?|clients?|connections?|vus?|usuarios?|usuários|utilisateurs|nutzer)\b"
    rf"|{FREE}({DIGITS}|{SPELLED})\s*(k)?\s+(?:concurrent|simultaneous)\b"
)


def seconds_asked(said: str) -> int | None:
    """The run's length, or None when the message names none."""
    for match in DURATION.finditer(said):
        if _describes_slowness(said, match):
            continue
        amount, unit, extra = match.group(1), match.group(2), match.group(3)
        if unit == "s" and re.fullmatch(r"[45]\d\d", amount) and not _after_for(said, match):
            continue  # '502s around 03:10': errors, not seconds
        per = SECONDS_PER[_unit(unit)]
        seconds = round(_number(amount) * per)
        return seconds + (int(extra) * per // 60 if extra else 0)
    return None


def users_asked(said: str) -> int | None:
    match = USERS.search(said)
    if match is None:
        return None
    number, thousands = match.group(1, 2) if match.group(1) else match.group(3, 4)
    return round(_number(number) * (1000 if thousands else 1))


def _describes_slowness(said: str, match: re.Match) -> bool:
    after = said[match.end() :].split()[:1]
    if after and after[0].strip(",.;)") in DESCRIBED_BY:
        return True  # '1.2s avg', '3s response'
    if _after_for(said, match):
        return False
    before = [word.strip("(,;:~") for word in said[: match.start()].split()]
    return bool(before) and before[-1] in DESCRIBING


def _after_for(said: str, match: re.Match) -> bool:
    """'for 2 minutes', 'over 15 min', 'for about 90s': a length, whatever comes before."""
    before = [word.strip("(,;:~") for word in said[: match.start()].split()]
    while before and before[-1] in ("about", "around", "roughly", "another", ""):
        before.pop()
    return bool(before) and before[-1] in FOR


def _number(amount: str) -> float:
    if amount.startswith("half") or amount == "a half":
        return 0.5
    if amount in WORD_NUMBERS:
        return WORD_NUMBERS[amount]
    return float(amount.replace(",", ""))


def _unit(unit: str) -> str:
    if unit[0] == "h" or unit == "stunden":
        return "h"
    return "m" if unit[0] == "m" else "s"
