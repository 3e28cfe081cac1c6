"""Slack-like rate limits: a token bucket per method (and per channel for posting).

Numbers follow Slack's tiers (per minute: tier 1 = 1, tier 2 = 20, tier 3 = 50,
tier 4 = 100) and chat.postMessage's one message per second per channel with short
bursts; views.publish is counted per user. Over the limit the Web API answers 429 with
Retry-After, as Slack does. A storm (POST /_emulator/ratelimits {"storm_seconds": N})
answers every call 429 for N seconds, so tests can see that nothing is lost or doubled.

| method | budget |
| --- | --- |
| chat.postMessage | 1 per second per channel, bursts of 5 |
| chat.update, chat.delete, reactions.*, conversations.* | tier 3: 50 per minute |
| chat.postEphemeral, auth.test, users.info, views.open/push/update | tier 4: 100 per minute |
| files.getUploadURLExternal, files.completeUploadExternal, files.info | tier 4 |
| views.publish | tier 4, per user |
| conversations.list, users.list, usergroups.* | tier 2: 20 per minute |
| apps.connections.open | tier 1: 1 per minute |
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field

TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
METHOD_TIERS = {
    "auth.test": 4,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.postEphemeral": 4,
    "chat.getPermalink": 4,
    "reactions.add": 3,
    "reactions.remove": 3,
    "conversations.list": 2,
    "conversations.info": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.join": 3,
    "users.info": 4,
    "users.list": 2,
    "usergroups.list": 2,
    "usergroups.users.list": 2,
    "views.publish": 4,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "apps.connections.open": 1,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "files.info": 4,
}
POST_MESSAGE_BURST = 5


@dataclass
class Bucket:
    capacity: float
    per_second: float
    tokens: float
    updated: float = field(default_factory=time.monotonic)

    def take(self) -> float:
        """0 when allowed, else seconds until a token is free."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


class RateLimiter:
    def __init__(self, enabled: bool = True, scale: float = 1.0):
        self.enabled = enabled
        self.scale = scale  # >1 is more generous, for fast local tests
        self.buckets: dict[str, Bucket] = {}
        self.allowed: Counter = Counter()
        self.limited: Counter = Counter()
        self.storm_until = 0.0

    def storm(self, seconds: float) -> None:
        """Every call is answered 429 for `seconds` (0 ends a storm)."""
        self.storm_until = time.monotonic() + seconds

    def check(self, method: str, channel: str | None = None, user: str | None = None) -> int:
        """Seconds to wait (Retry-After) or 0; counts both in the stats."""
        storm_left = self.storm_until - time.monotonic()
        if storm_left > 0:
            self.limited[method] += 1
            return max(1, math.ceil(storm_left))
        if not self.enabled:
            self.allowed[method] += 1
            return 0
        if method == "chat.postMessage":
            key, capacity, per_second = f"{method}:{channel}", POST_MESSAGE_BURST, 1.0
        else:
            per_minute = TIER_PER_MINUTE[METHOD_TIERS.get(method, 3)]
            # Slack tolerates short bursts above a tier's rate (reconnects, page loads).
            key = f"{method}:{user}" if method == "views.publish" else method
            capacity, per_second = max(5, per_minute / 3), per_minute / 60
        bucket = self.buckets.get(key)
        if bucket is None:
            capacity, per_second = capacity * self.scale, per_second * self.scale
            bucket = self.buckets[key] = Bucket(capacity, per_second, capacity)
        wait = bucket.take()
        if wait:
            self.limited[method] += 1
            return max(1, math.ceil(wait))
        self.allowed[method] += 1
        return 0

    def stats(self) -> dict:
        return {
            "enabled": self.enabled,
            "storm": self.storm_until > time.monotonic(),
            "allowed": dict(self.allowed),
            "limited": dict(self.limited),
        }

    def reset(self) -> None:
        self.storm_until = 0.0
        self.buckets.clear()
        self.allowed.clear()
        self.limited.clear()
