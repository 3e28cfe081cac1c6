"""Names from words: singular nouns, PascalCase entities, snake_case fields, typo fixes."""

from __future__ import annotations

import difflib
import re

from understanding.spelling import can_be_noun, known, noun_singular
from understanding.vocabulary import FILLER, IRREGULAR, VOCABULARY


def singular(word: str) -> str:
    if word in IRREGULAR:
        return IRREGULAR[word]
    if word in ("ins", "ups", "outs", "offs", "ons", "downs", "overs"):
        return word[:-1]  # 'check ins' -> CheckIn
    if (lemma := noun_singular(word)) and word.startswith(lemma[:2]):
        return lemma
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "tuses", "zzes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def correct(word: str) -> str:
    """A close misspelling of a control word ('postgress', 'grapql') read as meant; a word
    of its own ('serviced') stays."""
    if len(word) >= 5 and word not in VOCABULARY and not known(word):
        match = difflib.get_close_matches(word, VOCABULARY, n=1, cutoff=0.88)
        return match[0] if match else word
    return word


def split_camel(word: str) -> list[str]:
    """'LineItem' -> ['line', 'item']; any other word as one lowercase word."""
    if re.fullmatch(r"(?:[A-Z][a-z0-9]+){2,}", word):
        return [part.lower() for part in re.findall(r"[A-Z][a-z0-9]+", word)]
    return [word.lower()]


def entity_name(words: list[str], heading: bool = False) -> str | None:
    """['stock', 'items'] -> StockItem; filler and too-short words make no name, except
    as a heading someone wrote ('Application: job, applicant_email')."""
    words = [w for w in words if re.fullmatch(r"[a-z][a-z0-9]*", w)]
    if not words or (not heading and any(w in FILLER for w in words)) or len(words[-1]) < 3:
        return None
    if not heading and not can_be_noun(words[-1]):
        return None  # 'develop', 'integrate': verbs name no thing to keep ('Restock:' may)
    words[-1] = singular(words[-1])
    return "".join(w.capitalize() for w in words)[:40]
