"""`shipmate codec-server`: lets the Temporal Web UI show encrypted payloads as text.

It speaks Temporal's codec server protocol: POST /encode and /decode take and return
`{"payloads": [{"metadata": {...}, "data": "..."}]}` (bytes as base64), with the keys of
SHIPMATE_PAYLOAD_KEYS. Whoever reaches it can read every history, so it answers only:

- on loopback, unless SHIPMATE_CODEC_SERVER_TOKEN is set (then `--host` may be any
  address and every call needs `Authorization: Bearer <token>`);
- browsers from the Web UI's origins (SHIPMATE_CODEC_SERVER_ORIGINS, default the dev
  server's UI), with the CORS headers the UI needs; a request from any other page is
  refused before its body is read.
"""

from __future__ import annotations

import hmac
import ipaddress
import json

from aiohttp import web
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from shipmate.payload_codec import EncryptionCodec, PayloadKeyError, parse_keys
from shipmate.settings import Settings, SettingsError

MAX_BODY = 16 * 1024 * 1024  # a page of the UI's history at once; a payload is under 4 MiB
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"


def origins(settings: Settings) -> set[str]:
    """Pages whose scripts may call the server: configured, or the dev Web UI's."""
    if settings.codec_server_origins:
        return {origin.rstrip("/") for origin in settings.codec_server_origins}
    port = settings.temporal_ui_port
    return {settings.temporal_ui_url, f"http://localhost:{port}", f"http://127.0.0.1:{port}"}


def is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def build_app(settings: Settings) -> web.Application:
    if settings.payload_keys is None:
        raise SettingsError(
            "SHIPMATE_PAYLOAD_KEYS is not set: there is nothing to decrypt with "
            "(under a running `shipmate dev`, its key is used)"
        )
    codec = EncryptionCodec(parse_keys(settings.payload_keys.get_secret_value()))
    token = settings.codec_server_token
    expected = f"Bearer {token.get_secret_value()}".encode() if token else None
    allowed = origins(settings)

    @web.middleware
    async def guard(request: web.Request, handler):
        origin = request.headers.get("Origin")
        if origin is not None and origin.rstrip("/") not in allowed:
            return _error(403, f"origin {origin} may not use this codec server", None)
        cors = _cors(origin)
        if request.method == "OPTIONS":  # a browser's preflight: it never carries credentials
            return web.Response(status=204, headers=cors)
        if expected is not None:
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return _error(401, "missing or wrong Authorization", cors)
        elif not is_loopback(request.remote):
            return _error(403, "this codec server answers loopback only", cors)
        response = await handler(request)
        response.headers.update(cors)
        return response

    async def encode(request: web.Request) -> web.Response:
        return await _apply(request, codec.encode)

    async def decode(request: web.Request) -> web.Response:
        return await _apply(request, codec.decode)

    app = web.Application(middlewares=[guard], client_max_size=MAX_BODY)
    for path, handler in (("/encode", encode), ("/decode", decode)):
        app.router.add_post(path, handler)
        app.router.add_route("OPTIONS", path, handler)  # answered by the guard
    return app


async def _apply(request: web.Request, how) -> web.Response:
    try:
        payloads = json_format.Parse(await request.text(), Payloads())
    except (json_format.ParseError, UnicodeDecodeError):
        return _error(400, 'the body must be {"payloads": [...]} with base64 data', None)
    try:
        done = await how(payloads.payloads)
    except PayloadKeyError as exc:  # names the key id, never a key
        return _error(422, str(exc), None)
    body = json_format.MessageToJson(Payloads(payloads=done), indent=None)
    return web.Response(text=body, content_type="application/json")


def _cors(origin: str | None) -> dict[str, str]:
    if origin is None:  # not a browser: the temporal CLI, curl
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Vary": "Origin",
    }


def _error(status: int, message: str, cors: dict[str, str] | None) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps({"error": message}),
        content_type="application/json",
        headers=cors or {},
    )


def serve(settings: Settings, host: str, port: int) -> None:
    """Run until interrupted; an address beyond loopback needs the token."""
    if not is_loopback(host) and settings.codec_server_token is None:
        raise SettingsError(
            f"--host {host}: set SHIPMATE_CODEC_SERVER_TOKEN to serve beyond loopback "
            "(whoever reaches the codec server can read every history)"
        )
    app = build_app(settings)
    where = f"http://{host}:{port}"
    print(
        f"codec server on {where} for {', '.join(sorted(origins(settings)))}; "
        f"in the Web UI: Settings > Codec Server > {where}",
        flush=True,
    )
    web.run_app(app, host=host, port=port, print=None, access_log=None)
