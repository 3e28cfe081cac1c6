"""The request as text with places, and a record of which words the parser used.

Every word of a request is either used, known filler, or reported back ("I didn't use:
…"): each reader marks the characters it read here, so nothing it skips goes unsaid.
The lowered text keeps every character at its place (accents folded one for one), so
a match on it marks the same span of what the person wrote.
"""

from __future__ import annotations

import re
import unicodedata

WORD = re.compile(r"\w+")
# Letters that look Latin but are not: 'оrders' with a Cyrillic о builds nothing anyone
# could type again, so such a word becomes a question.
LOOKALIKE_SCRIPTS = ("CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE")


def fold(char: str) -> str:
    """One character in, one out: é -> e, Ｏ -> o; anything else stays as it is."""
    if char.isascii():
        return char.lower()
    decomposed = unicodedata.normalize("NFKD", char)
    if decomposed and decomposed[0].isascii() and decomposed[0].isalnum():
        return decomposed[0].lower()
    return char.lower() if len(char.lower()) == 1 else char


class Request:
    """One request: what was written, a lowered twin of the same length, and coverage."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lowered = "".join(fold(c) for c in text)  # readers blank what they consumed
        self.folded = self.lowered  # as written, for the report of unused words
        self._used = bytearray(len(text))
        self.arrows: dict[str, str] = {}  # 'customer -> Client': a field's link, as written

    def blank(self, start: int, end: int) -> None:
        """Consumed: later readers see spaces here (the report still sees the words)."""
        self.lowered = self.lowered[:start] + " " * (end - start) + self.lowered[end:]

    def use(self, start: int, end: int) -> None:
        self._used[start:end] = b"\x01" * max(0, end - start)

    def use_match(self, match: re.Match, *groups: int | str, offset: int = 0) -> None:
        """Mark a match (or some of its groups) read; offset is where its text began."""
        for group in groups or (0,):
            if match.start(group) >= 0:
                self.use(offset + match.start(group), offset + match.end(group))

    def use_words(self, start: int, end: int, words: set[str]) -> None:
        """Mark the words of a span that are in `words`."""
        for match in WORD.finditer(self.lowered, start, end):
            if match.group() in words:
                self.use(match.start(), match.end())

    def used(self, start: int, end: int) -> bool:
        return any(self._used[start:end])

    def used_word(self, word: str, start: int, end: int) -> bool:
        """Whether every place `word` stands between start and end was read."""
        places = [m for m in WORD.finditer(self.lowered, start, end) if m.group() == word]
        return bool(places) and all(self.used(m.start(), m.end()) for m in places)

    def unused_words(self, filler: frozenset[str]) -> list[str]:
        """Words nobody read that carry meaning, as written, once each."""
        left = []
        for match in WORD.finditer(self.folded):
            word = match.group()
            if self.used(match.start(), match.end()) or word in filler or word.isdigit():
                continue
            written = self.text[match.start() : match.end()]
            if written not in left:
                left.append(written)
        return left

    def lookalikes(self) -> list[str]:
        """Words mixing Latin letters with letters that only look like them."""
        found = []
        for match in WORD.finditer(self.text):
            word = match.group()
            scripts = {_script(c) for c in word if c.isalpha()}
            if "LATIN" in scripts and scripts & set(LOOKALIKE_SCRIPTS) and word not in found:
                found.append(word)
        return found


def _script(char: str) -> str:
    if char.isascii():
        return "LATIN"
    name = unicodedata.name(char, "")
    return next(
        (s for s in LOOKALIKE_SCRIPTS if name.startswith(s)),
        "LATIN" if "LATIN" in name else "OTHER",
    )
