"""One vocabulary: the words people use for environments, and which are production.

The rule parser, the thread commands, the approval defaults, the card's confirm
dialogs and the OpenAI prompt all read these, so "approve live" and "deploy to live"
mean the same environment everywhere.
"""

from __future__ import annotations

import re

ENVIRONMENT_WORDS = {
    "dev": "dev",
    "development": "dev",
    "qa": "qa",
    "test": "qa",
    "staging": "staging",
    "stage": "staging",
    "stg": "staging",
    "prod": "prod",
    "production": "prod",
    "prd": "prod",
    "live": "prod",
}

# Environment names that are production: a requester never approves their own deploy
# there by default, and the Approve button asks for confirmation.
PRODUCTION_NAMES = frozenset({"prod", "production", "live"})


def is_production(environment: str) -> bool:
    return environment in PRODUCTION_NAMES


def environments_named(text: str) -> list[str]:
    """The environments a text names, in order and once each ('staging then prod')."""
    words = re.findall(r"[a-z]+", text.lower())
    return list(dict.fromkeys(ENVIRONMENT_WORDS[w] for w in words if w in ENVIRONMENT_WORDS))
