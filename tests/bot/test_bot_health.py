"""`/health` on SHIPMATE_BOT_PORT says whether Slack and Temporal are up, so a probe (or a
person with curl) can tell which one the bot has lost.

`shipmate bot` runs as a process of its own, in Socket Mode, against a Temporal dev
server and an emulator of its own, each stopped in turn while the bot keeps running.
"""

from __future__ import annotations

from types import SimpleNamespace

import httpx

from cli import devstack
from slack_emulator.workspace import DEFAULT_SEED
from testkit.waiting import eventually_sync

TOKENS = DEFAULT_SEED["tokens"]


def bot_environment(
    temporal: str, emulator_port: int, bot_port: int, state, mode: str = "socket"
) -> dict:
    return {
        "SHIPMATE_TEMPORAL_ADDRESS": temporal,
        "SHIPMATE_TASK_QUEUE": "health-check",
        "SHIPMATE_SLACK_MODE": mode,
        "SHIPMATE_SLACK_BOT_TOKEN": TOKENS["bot"],
        "SHIPMATE_SLACK_APP_TOKEN": TOKENS["app"],
        "SHIPMATE_SLACK_SIGNING_SECRET": TOKENS["signing_secret"],
        "SHIPMATE_SLACK_API_URL": f"http://127.0.0.1:{emulator_port}/api/",
        "SHIPMATE_BOT_PORT": str(bot_port),
        "SHIPMATE_STATE_DIR": str(state),
    }


def bot_part(bot_port: int, env: dict) -> devstack.Part:
    """`shipmate bot`, ready once its /health answers 200: both up."""
    return devstack.bot_part(SimpleNamespace(bot_port=bot_port), env)


def health_says(url: str, expected: dict, status: int):
    """The health answer, once it is `expected` with `status`."""

    def check():
        try:
            response = httpx.get(url, timeout=10)
        except httpx.HTTPError:
            return None
        return response if (response.status_code, response.json()) == (status, expected) else None

    return eventually_sync(check, interval=0.5, what=f"/health to say {expected} ({status})")


def test_health_says_whether_slack_and_temporal_are_up(tmp_path):
    ports = {name: devstack.free_port() for name in ("temporal", "ui", "slack", "bot")}
    health = f"http://127.0.0.1:{ports['bot']}/health"
    temporal_address = f"127.0.0.1:{ports['temporal']}"
    env = bot_environment(temporal_address, ports["slack"], ports["bot"], tmp_path)
    quiet = {"echo": lambda line: None}
    with (
        devstack.LocalStack(**quiet) as temporal,
        devstack.LocalStack(**quiet) as slack,
        devstack.LocalStack(**quiet) as bot,
    ):
        temporal.start(devstack.temporal_part(tmp_path, ports["temporal"], ports["ui"]))
        slack.start(devstack.emulator_part(ports["slack"]))
        started = bot.start(bot_part(ports["bot"], env))

        health_says(health, {"slack": "connected", "temporal": "up"}, 200)

        temporal.stop()
        health_says(health, {"slack": "connected", "temporal": "down"}, 503)

        slack.stop()
        health_says(health, {"slack": "disconnected", "temporal": "down"}, 503)
        assert started.process.poll() is None, "the bot must outlive what it depends on"
    assert "Traceback" not in "\n".join(started.log_lines)


def test_in_http_mode_health_asks_slacks_web_api(tmp_path, settings):
    """HTTP mode holds no socket to Slack: its Web API answering is what "connected" means."""
    ports = {name: devstack.free_port() for name in ("slack", "bot")}
    health = f"http://127.0.0.1:{ports['bot']}/health"
    env = bot_environment(settings.temporal_address, ports["slack"], ports["bot"], tmp_path, "http")
    quiet = {"echo": lambda line: None}
    with devstack.LocalStack(**quiet) as slack, devstack.LocalStack(**quiet) as bot:
        slack.start(devstack.emulator_part(ports["slack"]))
        started = bot.start(bot_part(ports["bot"], env))
        health_says(health, {"slack": "connected", "temporal": "up"}, 200)

        slack.stop()
        health_says(health, {"slack": "disconnected", "temporal": "up"}, 503)
        assert started.process.poll() is None
