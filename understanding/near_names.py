"""Which existing service a misspelt or shortened name meant: "hinagys" → hinagies-api.

rapidfuzz's edit-distance ratio, on the whole name and on the name without its kind
(`-api`, `-service`), since people drop the suffix more often than they misspell it.
A name far from every service gets no suggestion rather than a wild one.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

KIND = re.compile(r"-(?:api|service|svc|backend|server|app)$")
CLOSE_ENOUGH = 75  # 0-100; 'orderz-api'/'orders-api' is 90, 'hinagys'/'hinagies' 80


def near(word: str, names: list[str], limit: int = 3) -> list[str]:
    """The existing names closest to `word`, best first, or [] when none is close."""
    said = word.lower()
    scored = []
    for name in names:
        score = max(fuzz.ratio(said, name), fuzz.ratio(KIND.sub("", said), KIND.sub("", name)))
        if score >= CLOSE_ENOUGH:
            scored.append((-score, name))
    return [name for _, name in sorted(scored)[:limit]]
