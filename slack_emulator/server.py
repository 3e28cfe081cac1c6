"""The emulator's HTTP server: Web API, Socket Mode, control API, and the web page."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from aiohttp import web

from slack_emulator.control import Control
from slack_emulator.events import EventDispatcher
from slack_emulator.files import MAX_FILE_BYTES
from slack_emulator.grants import MANIFEST, Grants
from slack_emulator.ratelimits import RateLimiter
from slack_emulator.web_api import WebApi
from slack_emulator.workspace import SlackError, Workspace

log = logging.getLogger(__name__)
PAGE = Path(__file__).parent / "page"
WORKSPACE = web.AppKey("workspace", Workspace)
EVENTS = web.AppKey("events", EventDispatcher)
API = web.AppKey("api", WebApi)


@dataclass
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 3000
    seed: Path | None = None
    state: Path | None = None  # the workspace's journal; None keeps it in memory only
    request_url: str | None = None  # HTTP mode: where events and clicks are POSTed
    rate_limits: bool = True
    rate_limit_scale: float = 1.0
    ack_timeout: float = 3.0
    # What the app may call and hear: Shipmate's own manifest; None grants everything.
    manifest: Path | None = MANIFEST
    max_file_bytes: int = MAX_FILE_BYTES  # larger uploads get file_upload_size_restricted

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


class Live:
    """Tells open web pages that a channel, or a person's modals or home, changed, so they
    redraw at once."""

    def __init__(self) -> None:
        self.pages: set[web.WebSocketResponse] = set()

    def changed(self, channel: str) -> None:
        self._tell({"type": "changed", "channel": channel})

    def views_changed(self, user: str) -> None:
        """`user` is a person's id, or "*" for everyone."""
        self._tell({"type": "views", "user": user})

    def _tell(self, event: dict) -> None:
        message = json.dumps(event)
        for page in list(self.pages):
            asyncio.get_running_loop().create_task(self._send(page, message))

    async def _send(self, page: web.WebSocketResponse, message: str) -> None:
        try:
            await page.send_str(message)
        except (ConnectionError, RuntimeError):
            self.pages.discard(page)

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        page = web.WebSocketResponse(heartbeat=30)
        await page.prepare(request)
        self.pages.add(page)
        try:
            async for _ in page:
                pass
        finally:
            self.pages.discard(page)
        return page


def build_app(config: EmulatorConfig) -> web.Application:
    workspace = Workspace.from_seed(config.seed, config.state)
    live = Live()
    grants = Grants.everything()
    if config.manifest is not None and config.manifest.exists():
        grants = Grants.from_manifest(config.manifest)
    elif config.manifest is not None:
        log.warning("no manifest at %s: every scope and event is granted", config.manifest)
    api = WebApi(workspace, config.base_url, on_change=live.changed, on_views=live.views_changed)
    api.grants = grants
    api.files.max_bytes = config.max_file_bytes
    events = EventDispatcher(workspace, config.request_url, config.ack_timeout, grants)
    limiter = RateLimiter(config.rate_limits, config.rate_limit_scale)
    control = Control(workspace, api, events, limiter, live)
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[WORKSPACE], app[EVENTS], app[API] = workspace, events, api

    async def web_api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = token or args.pop("token", None)
        if method in api.methods:
            wait = limiter.check(
                method, str(args.get("channel") or ""), str(args.get("user_id") or "")
            )
            if wait:
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(wait)},
                )
        try:
            return web.json_response(api.call(method, args, token))
        except SlackError as exc:
            return web.json_response(exc.body(), status=exc.status)

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(PAGE / "index.html")

    async def on_shutdown(app: web.Application) -> None:
        # Open websockets would hold the shutdown for its whole grace period.
        await events.close()
        for page in list(live.pages):
            await page.close()
        if workspace.store:
            workspace.store.close()

    app.router.add_route("*", "/api/{method}", web_api)
    app.router.add_get("/link/", events.socket_handler)
    app.router.add_get("/_emulator/live", live.handler)
    app.router.add_routes(control.routes())
    app.router.add_routes(api.files.routes())
    app.router.add_get("/", index)
    app.router.add_static("/page", PAGE)
    app.on_shutdown.append(on_shutdown)
    return app


async def _arguments(request: web.Request) -> dict:
    """Slack accepts query strings, form bodies and JSON bodies alike."""
    args = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return args
    raw = await request.read()
    if request.content_type == "application/json":
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return args
        if isinstance(body, dict):
            args.update(body)
    else:
        args.update(parse_qsl(raw.decode(errors="replace"), keep_blank_values=True))
    return args


class EmulatorServer:
    """Runs the emulator inside an existing event loop (tests, `shipmate dev`)."""

    def __init__(self, config: EmulatorConfig):
        self.config = config
        self.app = build_app(config)
        self._runner: web.AppRunner | None = None

    async def start(self) -> EmulatorServer:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        if self.config.port == 0:
            self.config.port = self._runner.addresses[0][1]
            self.app[API].base_url = self.config.base_url
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None  # stopping twice (a test that restarted it) is harmless

    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def workspace(self) -> Workspace:
        return self.app[WORKSPACE]

    @property
    def events(self) -> EventDispatcher:
        return self.app[EVENTS]


def run(config: EmulatorConfig) -> None:
    print(f"Slack emulator on {config.base_url}  (page: {config.base_url}/)", flush=True)
    web.run_app(build_app(config), host=config.host, port=config.port, access_log=None, print=None)
