"""Chat → healthy against the same steps scripted by hand: `python -m benchmarks.delivery_speed`.

On one machine, in one run, rounds alternate between:

- chat: alice writes "@shipmate build a <name> api on sqlite" in the Slack emulator;
  timed until the thread says the service is live in staging (Shipmate says so only
  after its health check). Everything runs as under `shipmate dev`: a Temporal dev
  server, a registry, the emulator (rate limits on), a worker and a bot, each a
  process of its own. Staging has no gate here, so no human time is measured;
- by hand: the same steps a person would script, one after the other, with the same
  generator, Docker engine, builder and registry: write the repository, build the
  test image and run its tests, build the runtime image, push it, start it, poll its
  /health every 0.1 s.

The first round of each is a warm-up (wheel cache, base layers) and is not counted.
Each round's services are removed before the next, so every round finds the same machine.
Prints each round, the medians and chat/hand as a ratio; asserts nothing.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import string
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import docker
import httpx
from pydantic import SecretStr

from activities import images
from activities.scaffold.generator import write_service
from cli import devstack
from cli.dev_payload_key import dev_payload_keys
from cli.identity import DEV_DEVELOPERS
from shipmate.settings import Settings
from shipmate.temporal import connect
from testkit.chat import Chat
from understanding import parse_request
from workflows import search

LIVE = "is live in *staging*"


def service_name() -> str:
    """A plain noun the parser takes as the service's name."""
    return "speed" + "".join(random.choices(string.ascii_lowercase, k=5)) + "n"


def stack_settings(state: Path, installation: str) -> Settings:
    free = devstack.free_port
    first = free()  # the start of a range the local target publishes services on
    return Settings(
        developers=list(DEV_DEVELOPERS),  # as under `shipmate dev`
        temporal_address=f"127.0.0.1:{free()}",
        temporal_ui_port=free(),
        registry=f"127.0.0.1:{(registry := free())}",
        registry_port=registry,
        emulator_port=free(),
        bot_port=free(),
        router_admin_port=free(),
        local_ports=f"{first}-{first + 39}",
        state_dir=state,
        wheelhouse=Path("~/.cache/shipmate/wheelhouse").expanduser(),
        installation=installation,
        task_queue="speed",
        # as under `shipmate dev`: encrypted payloads, so the benchmark's client reads them
        payload_keys=SecretStr(dev_payload_keys(state)),
    )


def environment(settings: Settings) -> dict[str, str]:
    """What the worker and bot processes read: these settings, and no gate on staging."""
    env = devstack.dev_environment(settings)
    env.update(
        settings.as_environment(
            "temporal_address",
            "registry",
            "bot_port",
            "router_admin_port",
            "local_ports",
            "state_dir",
            "wheelhouse",
            "installation",
            "task_queue",
        )
    )
    env["SHIPMATE_APPROVAL_POLICIES"] = json.dumps({"staging": {"gate": False}})
    return env


async def by_chat(chat: Chat) -> tuple[float, str]:
    """Seconds from the message to the thread's "is live", and where they went."""
    name = service_name()
    started = time.perf_counter()
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name} api on sqlite")
    deadline = started + 300
    while time.perf_counter() < deadline:
        if any(LIVE in reply["text"] for reply in await chat.thread(ts)):
            return time.perf_counter() - started, await timeline(chat.settings, ts)
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{name} did not go live within 300 s; thread: {await chat.thread(ts)}")


async def timeline(settings: Settings, ts: str) -> str:
    """Each stage's start and end, in seconds after the message was posted."""
    client = await connect(settings)
    async for found in client.list_workflows(search.deliveries(thread=ts)):
        status = await client.get_workflow_handle(found.id).query("status")
        posted = float(ts)
        return ", ".join(
            f"{s['name']} {_at(s['started_at'], posted)}–{_at(s['finished_at'], posted)}"
            for s in status["stages"]
            if s["started_at"]
        )
    return "no delivery found"


def _at(moment: str | None, posted: float) -> str:
    return f"{datetime.fromisoformat(moment).timestamp() - posted:.1f}" if moment else "…"


def by_hand(settings: Settings, port: int) -> tuple[float, str]:
    """The hand-scripted sequence, each step waiting for the one before it; the total
    and each step's seconds."""
    engine = images.docker_client(settings)
    spec = parse_request(f"build a {service_name()} api on sqlite").spec
    repo = settings.state_dir / "by-hand" / spec.name
    steps: list[str] = []
    started = last = time.perf_counter()

    def step(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        steps.append(f"{name} {now - last:.1f}")
        last = now

    write_service(spec, repo)
    images.prepare_build_context(settings, repo)
    step("write")
    images.build_image(settings, repo, f"{spec.name}:test", "test", lambda line: None)
    step("test image")
    tests = engine.containers.run(f"{spec.name}:test", detach=True, network_disabled=True)
    if tests.wait()["StatusCode"] != 0:
        raise RuntimeError(f"the generated tests failed: {tests.logs()[-2000:]!r}")
    tests.remove()
    step("tests")
    images.build_image(settings, repo, f"{spec.name}:v1", "runtime", lambda line: None)
    step("runtime image")
    images.push_image(settings, f"{spec.name}:v1", lambda line: None)
    step("push")
    engine.containers.run(
        f"{spec.name}:v1",
        detach=True,
        network_mode="host",
        labels={"shipmate.installation": settings.installation},
        environment={
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "DATABASE_URL": "sqlite:////data/a.db",
        },
        volumes={f"{spec.name}-{settings.installation}": {"bind": "/data", "mode": "rw"}},
    )
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                step("run until healthy")
                return time.perf_counter() - started, ", ".join(steps)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)


def clean_up(installation: str, *, keep_router: bool = False) -> None:
    """Remove the services both ways started (and their volumes); between rounds the
    router stays, so each round starts from the same machine (no services piling up,
    each with its health check every 10 s)."""
    engine = docker.from_env()
    label = f"shipmate.installation={installation}"
    for container in engine.containers.list(all=True, filters={"label": label}):
        if not (keep_router and container.name.endswith("-router")):
            container.remove(force=True)
    for volume in engine.volumes.list():
        if volume.name.endswith(installation):
            volume.remove(force=True)


async def main(rounds: int = 5) -> None:
    installation = f"b{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory() as state, devstack.LocalStack(echo=lambda _: None) as stack:
        settings = stack_settings(Path(state), installation)
        stack.start(devstack.temporal_part(Path(state), *_ports(settings)))
        stack.start(devstack.registry_part(Path(state), settings.registry_port))
        stack.start(devstack.emulator_part(settings.emulator_port))
        env = environment(settings)
        stack.start(devstack.worker_part(settings, env))
        stack.start(devstack.bot_part(settings, env))
        chat = Chat(SimpleNamespace(base_url=f"http://127.0.0.1:{settings.emulator_port}"))
        chat.settings = settings
        hand_port = devstack.free_port()
        chats, hands = [], []
        try:
            for round_ in range(rounds + 1):
                hand, steps = await asyncio.to_thread(by_hand, settings, hand_port + round_)
                spoken, stages = await by_chat(chat)
                counted = "warm-up" if round_ == 0 else f"round {round_}"
                print(f"  {counted}: chat→healthy {spoken:.2f} s, by hand {hand:.2f} s")
                print(f"    chat, stages (s after the message): {stages}")
                print(f"    by hand, steps (s each): {steps}")
                if round_:
                    chats.append(spoken)
                    hands.append(hand)
                clean_up(installation, keep_router=True)
        finally:
            clean_up(installation)
    chat_median, hand_median = statistics.median(chats), statistics.median(hands)
    print(
        f"a new service, chat→healthy vs the same steps by hand (median of {rounds}): "
        f"{chat_median:.2f} s vs {hand_median:.2f} s, ratio {chat_median / hand_median:.2f}"
    )


def _ports(settings: Settings) -> tuple[int, int]:
    return int(settings.temporal_address.rsplit(":", 1)[1]), settings.temporal_ui_port


if __name__ == "__main__":
    asyncio.run(main())
