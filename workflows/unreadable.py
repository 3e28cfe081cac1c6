"""Text nobody can have typed: NUL and other control characters, and lone surrogates,
which break git, JSON and Slack further down; refused where a message comes in."""

from __future__ import annotations

import re

UNREADABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
UNREADABLE_TEXT = (
    "I can't read that message: it has invisible control characters in it. Could you type it again?"
)


def unreadable(text: str) -> bool:
    return bool(UNREADABLE.search(text))
