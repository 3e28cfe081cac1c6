"""Delivering events to the bot as Slack does: Socket Mode envelopes or signed HTTP posts.

Every delivery is logged with its ack and ack latency. An envelope not acked within
3 seconds is logged as a failure and redelivered with retry_attempt / retry_reason
(HTTP: X-Slack-Retry-Num / X-Slack-Retry-Reason), up to three retries.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from slack_emulator.grants import Grants
from slack_emulator.workspace import Workspace

log = logging.getLogger(__name__)

ACK_TIMEOUT = 3.0
MAX_RETRIES = 3


def sign(secret: str, timestamp: str, body: bytes) -> str:
    basestring = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    id: str
    type: str  # events_api | interactive | slash_commands
    event_type: str
    transport: str = "none"
    attempts: list[dict] = field(default_factory=list)
    acked: bool = False
    ack_latency_ms: float | None = None
    status: str = "pending"  # pending | acked | failed | undelivered | not subscribed
    payload: dict = field(default_factory=dict, repr=False)
    # The ack's response payload (Socket Mode: the ack's "payload"; HTTP: the JSON body),
    # e.g. {"response_action": "errors", ...} for a view_submission.
    response: dict | None = None
    settled: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "type": self.type,
            "event_type": self.event_type,
            "transport": self.transport,
            "acked": self.acked,
            "ack_latency_ms": self.ack_latency_ms,
            "status": self.status,
            "attempts": self.attempts,
        }


class EventDispatcher:
    def __init__(
        self,
        workspace: Workspace,
        request_url: str | None = None,
        ack_timeout: float = ACK_TIMEOUT,
        grants: Grants | None = None,
    ):
        self.workspace = workspace
        self.grants = grants or Grants.everything()
        self.request_url = request_url
        self.ack_timeout = ack_timeout
        self.sockets: list[web.WebSocketResponse] = []
        self.deliveries: list[Delivery] = []
        self._waiting: dict[str, tuple[asyncio.Future, float]] = {}
        self._next_socket = 0
        self._tasks: set[asyncio.Task] = set()
        self._session: aiohttp.ClientSession | None = None

    # Building payloads

    def event_callback(self, event: dict) -> dict:
        ws = self.workspace
        return {
            "token": "emulator-verification-token",
            "team_id": ws.team["id"],
            "api_app_id": ws.seed["app_id"],
            "event": {**event, "event_ts": ws.next_ts()},
            "type": "event_callback",
            "event_id": ws.next_id("Ev"),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": ws.team["id"],
                    "user_id": ws.bot["id"],
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    # Sending

    def send(self, kind: str, payload: dict, retries: int = MAX_RETRIES) -> Delivery:
        """Queue one delivery (with its retries) and return its log entry at once;
        `await delivery.settled.wait()` waits for its ack or its last failure."""
        event_type = payload.get("event", {}).get("type") or payload.get("type", kind)
        delivery = Delivery(
            id=self.workspace.next_id("Dl"), type=kind, event_type=event_type, payload=payload
        )
        self.deliveries.append(delivery)
        if kind == "events_api" and not self.grants.subscribed(payload.get("event", {})):
            # Slack sends nothing the manifest does not subscribe to; the log says so
            delivery.status = "not subscribed"
            delivery.settled.set()
            return delivery
        self._start(self._deliver(delivery, payload, retries=retries))
        return delivery

    def redeliver(self, delivery_id: str) -> Delivery | None:
        """Send a delivery again as Slack's retry would (same payload and event_id), as
        when an ack was lost on the way back."""
        delivery = next((d for d in self.deliveries if d.id == delivery_id), None)
        if delivery is not None:
            attempt = len(delivery.attempts)
            self._start(self._deliver(delivery, delivery.payload, first_attempt=attempt))
        return delivery

    def _start(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self, delivery: Delivery, payload: dict, first_attempt: int = 0, retries: int = MAX_RETRIES
    ) -> None:
        try:
            await self._attempts(delivery, payload, first_attempt, retries)
        finally:
            delivery.settled.set()

    async def _attempts(
        self, delivery: Delivery, payload: dict, first_attempt: int, retries: int
    ) -> None:
        reason = "timeout" if first_attempt else ""
        for attempt in range(first_attempt, first_attempt + retries + 1):
            if self.sockets:
                delivery.transport = "socket_mode"
                acked, latency, reason_now = await self._send_socket(
                    delivery, payload, attempt, reason
                )
            elif self.request_url:
                delivery.transport = "http"
                acked, latency, reason_now = await self._send_http(
                    delivery, payload, attempt, reason
                )
            else:
                delivery.status = "undelivered"
                delivery.attempts.append({"attempt": attempt, "error": "no bot connected"})
                return
            if acked:
                delivery.acked, delivery.ack_latency_ms, delivery.status = True, latency, "acked"
                return
            reason = reason_now
            log.warning("delivery %s (%s) not acked: %s", delivery.id, delivery.event_type, reason)
        delivery.status = "failed"

    async def _send_socket(self, delivery: Delivery, payload: dict, attempt: int, reason: str):
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": delivery.type,
            "accepts_response_payload": delivery.type != "events_api",
            "retry_attempt": attempt,
            "retry_reason": reason,
        }
        connection = self._next_socket % len(self.sockets)  # Slack picks one connection
        socket = self.sockets[connection]
        self._next_socket += 1
        future = asyncio.get_running_loop().create_future()
        sent = time.monotonic()
        self._waiting[envelope_id] = (future, sent)
        record = {
            "attempt": attempt,
            "envelope_id": envelope_id,
            "retry_reason": reason,
            "connection": connection,
        }
        delivery.attempts.append(record)
        try:
            await socket.send_str(json.dumps(envelope))
            await asyncio.wait_for(asyncio.shield(future), self.ack_timeout)
        except (TimeoutError, ConnectionError, RuntimeError) as exc:
            record["error"] = "timeout" if isinstance(exc, TimeoutError) else str(exc)
            return False, None, "timeout"
        latency = round((time.monotonic() - sent) * 1000, 2)
        record["ack_latency_ms"] = latency
        delivery.response = future.result()
        return True, latency, ""

    def ack(self, envelope_id: str, payload: dict | None = None) -> None:
        """An envelope's ack; its payload is the response (e.g. a response_action)."""
        waiting = self._waiting.pop(envelope_id, None)
        if waiting and not waiting[0].done():
            waiting[0].set_result(payload if isinstance(payload, dict) else None)

    async def _send_http(self, delivery: Delivery, payload: dict, attempt: int, reason: str):
        if delivery.type == "events_api":
            body, content_type = json.dumps(payload).encode(), "application/json"
        elif delivery.type == "slash_commands":  # Slack sends a command's fields as a form
            body = urlencode(payload).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            body = urlencode({"payload": json.dumps(payload)}).encode()
            content_type = "application/x-www-form-urlencoded"
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(self.workspace.tokens["signing_secret"], timestamp, body),
        }
        if attempt:
            headers.update({"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": reason})
        record = {"attempt": attempt, "retry_reason": reason}
        delivery.attempts.append(record)
        sent = time.monotonic()
        self._session = self._session or aiohttp.ClientSession()
        try:
            async with self._session.post(
                self.request_url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.ack_timeout),
            ) as response:
                record["status"] = response.status
                if response.status >= 300:
                    return False, None, "http_error"
                delivery.response = _json_body(await response.read())
        except (TimeoutError, aiohttp.ClientError) as exc:
            record["error"] = type(exc).__name__
            return False, None, "http_timeout"
        latency = round((time.monotonic() - sent) * 1000, 2)
        record["ack_latency_ms"] = latency
        return True, latency, ""

    # Socket Mode connections

    async def socket_handler(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(heartbeat=30)
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self.sockets),
                    "debug_info": {
                        "host": "shipmate-emulator",
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.workspace.seed["app_id"]},
                }
            )
        )
        try:
            async for message in socket:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(message.data)
                except json.JSONDecodeError:
                    continue
                if isinstance(data, dict) and "envelope_id" in data:
                    self.ack(data["envelope_id"], data.get("payload"))
        finally:
            if socket in self.sockets:
                self.sockets.remove(socket)
        return socket

    async def disconnect_all(self, reason: str = "refresh_requested") -> int:
        count = 0
        for socket in list(self.sockets):
            await socket.send_str(json.dumps({"type": "disconnect", "reason": reason}))
            count += 1
        return count

    def stats(self) -> dict:
        latencies = sorted(d.ack_latency_ms for d in self.deliveries if d.ack_latency_ms)
        return {
            "total": len(self.deliveries),
            "acked": sum(d.acked for d in self.deliveries),
            "failed": sum(d.status == "failed" for d in self.deliveries),
            "p50_ms": _percentile(latencies, 50),
            "p99_ms": _percentile(latencies, 99),
        }

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for socket in list(self.sockets):
            await socket.close()
        if self._session:
            await self._session.close()


def _json_body(body: bytes) -> dict | None:
    """An HTTP ack's body: empty for a plain ack, JSON when it carries a response."""
    try:
        data = json.loads(body) if body.strip() else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, round(pct / 100 * len(values) + 0.5) - 1))
    return values[index]
