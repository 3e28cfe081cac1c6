"""HTTP mode's front door: check Slack's signature and timestamp before reading anything.

Bolt parses a request body before its own signature check, so a forged or malformed
request (`{not json`, `[1,2]`, invalid UTF-8) used to reach the parser and end as a
500 with a traceback. Here the signature comes first (401 when it is wrong, missing or
stale), then the shape (400 when the body is not what Slack sends), and only a signed,
well-formed request reaches bolt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from urllib.parse import parse_qs

from aiohttp import web

log = logging.getLogger(__name__)

MAX_AGE_SECONDS = 5 * 60  # Slack's advice against replays


def well_formed(body: bytes, content_type: str) -> bool:
    """A JSON object (events), or a form whose payload is a JSON object (clicks) or
    that names a command (slash commands), as Slack sends them."""
    try:
        text = body.decode("utf-8")
        if "json" in content_type or text.lstrip().startswith("{"):
            return isinstance(json.loads(text), dict)
        form = parse_qs(text, strict_parsing=True)
        if "payload" in form:
            return isinstance(json.loads(form["payload"][0]), dict)
        return "command" in form
    except (UnicodeDecodeError, ValueError):
        return False


def _signed(secret: bytes, body: bytes, timestamp: str, signature: str) -> bool:
    """Slack's v0 signature over the raw bytes, at most five minutes old."""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def signed_requests_only(signing_secret: str, path: str):
    secret = signing_secret.encode()

    @web.middleware
    async def guard(request: web.Request, handler):
        if request.path != path or request.method != "POST":
            return await handler(request)
        body = await request.read()  # aiohttp keeps it for bolt to read again
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not _signed(secret, body, timestamp, signature):
            log.warning("refused an unsigned or stale request from %s", request.remote)
            return web.json_response({"error": "invalid signature"}, status=401)
        if not well_formed(body, request.headers.get("Content-Type", "")):
            log.warning("refused a signed request whose body Slack would not send")
            return web.json_response({"error": "malformed body"}, status=400)
        return await handler(request)

    return guard
