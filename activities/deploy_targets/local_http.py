"""The one HTTP client the worker's local deploys share: readiness polls and the router's
admin API. `httpx.get` builds a client, and with it a TLS context, on every call: 50 ms
a poll, most of a readiness check. One client keeps its connections too. (httpx clients
are safe to share between the worker's activity threads.)"""

from __future__ import annotations

import functools

import httpx


@functools.cache
def local_http() -> httpx.Client:
    return httpx.Client(timeout=2)
