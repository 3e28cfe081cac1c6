"""The environment a test gives `shipmate dev`: its own state dir, task queue and a free
port for every part, so it runs beside the session's stack and other tests."""

from __future__ import annotations

import os

from cli import devstack

PARTS = ("temporal", "ui", "moto", "registry", "emulator", "bot", "codec")


def dev_environment(state_dir, task_queue: str, *more_parts: str) -> tuple[dict, dict]:
    """The environment and the ports it names (`more_parts` get a port of their own)."""
    ports = {name: devstack.free_port() for name in (*PARTS, *more_parts)}
    env = {
        **os.environ,
        "SHIPMATE_STATE_DIR": str(state_dir),
        "SHIPMATE_TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "SHIPMATE_TEMPORAL_UI_PORT": str(ports["ui"]),
        "SHIPMATE_MOTO_PORT": str(ports["moto"]),
        "SHIPMATE_REGISTRY_PORT": str(ports["registry"]),
        "SHIPMATE_REGISTRY": f"127.0.0.1:{ports['registry']}",
        "SHIPMATE_TASK_QUEUE": task_queue,
        "SHIPMATE_EMULATOR_PORT": str(ports["emulator"]),
        "SHIPMATE_BOT_PORT": str(ports["bot"]),
        "SHIPMATE_CODEC_SERVER_PORT": str(ports["codec"]),
    }
    env.pop("SHIPMATE_PAYLOAD_KEYS", None)  # dev makes its own key in its state dir
    return env, ports
