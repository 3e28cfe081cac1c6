"""Running the bot: Socket Mode (default) or HTTP mode, with a /health endpoint either way."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import TemporalLink, build_app
from bot.http_guard import signed_requests_only
from shipmate.settings import Settings, SettingsError

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def require(settings: Settings, *names: str) -> None:
    """A missing credential is one line naming its variable."""
    missing = [f"SHIPMATE_{n.upper()}" for n in names if getattr(settings, n) is None]
    if missing:
        raise SettingsError(
            f"{', '.join(missing)} must be set to run the bot (mode {settings.slack_mode})"
        )


def http_app(settings: Settings, temporal: TemporalLink) -> web.Application:
    """HTTP mode: Slack's events and clicks at /slack/events, signature checked first."""
    require(settings, "slack_bot_token", "slack_signing_secret")
    secret = settings.slack_signing_secret.get_secret_value()
    web_app = build_app(settings, temporal, signing_secret=secret).web_app(path=EVENTS_PATH)
    web_app.middlewares.append(signed_requests_only(secret, EVENTS_PATH))
    web_app.router.add_get("/health", _health(temporal, _web_api_answers(settings)))
    return web_app


def _web_api_answers(settings: Settings):
    """HTTP mode holds no connection to Slack: it is up when its Web API answers the bot's
    token (a 429 is an answer too)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(
        token=token, base_url=settings.slack_api_url or AsyncWebClient.BASE_URL, timeout=5
    )
    client.retry_handlers = []

    async def answers() -> bool:
        try:
            return bool((await client.auth_test())["ok"])
        except SlackApiError as err:
            return err.response.status_code == 429
        except (TimeoutError, aiohttp.ClientError, OSError):
            return False

    return answers


async def serve(settings: Settings) -> None:
    temporal = TemporalLink(settings)
    await temporal.check()  # not fatal: the bot answers "can't reach the engine" meanwhile
    if settings.slack_mode == "http":
        runner = web.AppRunner(http_app(settings, temporal), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.bot_host, settings.bot_port).start()
        log.info("bot listening for Slack events on :%s/slack/events", settings.bot_port)
        print(f"bot ready (HTTP mode) on :{settings.bot_port}", flush=True)
        await asyncio.Event().wait()
    require(settings, "slack_bot_token", "slack_app_token")
    app = build_app(settings, temporal)
    handler = AsyncSocketModeHandler(
        app,
        settings.slack_app_token.get_secret_value(),
        web_client=AsyncWebClient(base_url=settings.slack_api_url or AsyncWebClient.BASE_URL),
    )
    await handler.connect_async()
    health = web.Application()
    health.router.add_get("/health", _health(temporal, lambda: handler.client.is_connected()))
    runner = web.AppRunner(health, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.bot_host, settings.bot_port).start()
    print(f"bot ready (Socket Mode); health on :{settings.bot_port}/health", flush=True)
    await asyncio.Event().wait()


def _health(temporal: TemporalLink, slack_connected):
    async def health(request: web.Request) -> web.Response:
        temporal_up = await temporal.check()
        slack_up = await _maybe_await(slack_connected())
        body = {
            "slack": "connected" if slack_up else "disconnected",
            "temporal": "up" if temporal_up else "down",
        }
        return web.json_response(body, status=200 if temporal_up and slack_up else 503)

    return health


async def _maybe_await(value):
    return await value if asyncio.iscoroutine(value) else value
