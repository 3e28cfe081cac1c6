"""Benchmarks that print figures (never asserted in tests): `python -m benchmarks.run`.

- generation: time to render and format a service repository, per spec size
  (target: under 1 s for a 5-entity spec on a 2-core machine);
- ack latency: how fast the bot acks the emulator's Socket Mode envelopes (p50/p99);
  Slack's limit is 3 s, whatever the workflow engine or OpenAI are doing;
- Slack under load (benchmarks.slack_load): questions and deliveries at once, with the
  emulator's rate limits on;
- Slack calls while every Docker slot builds (benchmarks.busy_builders): how long a status
  answer waits for a worker slot, split queues against one;
- a channel's outbox with 3,000 messages queued under a 429 storm
  (benchmarks.outbox_backlog): it continues as new with its backlog, none lost or doubled;
- a new service, chat→healthy against the same steps scripted by hand, as a ratio
  (benchmarks.delivery_speed; target: 1.0 or below);
- 100 deliveries parked at their gates on one worker: its memory and CPU, and whether
  approving all of them at once lands every approval (benchmarks.parked_load);
- a review of a generated 5-entity service, the whole workflow with the real stages
  (benchmarks.review_speed; target: 60 s or less);
- the load engine against a trivial endpoint: the requests per second it can make, so an
  optimization's figures are the service's and not Locust's (benchmarks.load_generator;
  target: 1,500 or more);
- understanding: the share of the public request table (testkit/request_table.py) the
  offline parser reads exactly (target: 90 % or more), its time per request (target:
  20 ms or less), and its score on sets written by people who never read it
  (testkit/request_sets.py; target: 85 % exact and none silently different).
  Set 4 (benchmarks/fourth_requests.jsonl) is the measure now: nobody has read it;
- what Apply wins: a 200,000-row service's filtered list before and after the index the
  optimizer names (benchmarks.optimize_speed; target: 5x faster at p95);
- load-test requests: the share of a table nobody has read (benchmarks.load_understanding)
  read exactly, and how the others go wrong (an ask missed, a run nobody asked for);
- events between services: 1,000 orders made in a generated orders-api, and how long after
  the last write a generated fulfillment-api has one Fulfillment each, over RabbitMQ and
  NATS (benchmarks.event_delivery; target: within 5 s, exactly 1,000);
- requests about events: the share of two tables nobody has read (new services, changes)
  whose publishing entities and brokers are read exactly (benchmarks.event_understanding);
- how people sign in: the share of a table nobody has read (passwords, an OpenID Connect
  issuer, none, or a question for a way not built) read exactly
  (benchmarks.sign_in_understanding);
- what tracing costs a generated service: creates and reads with it off and on, side by
  side (benchmarks.tracing_cost).
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from pydantic import SecretStr
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient

from activities.scaffold.generator import write_service
from benchmarks import (
    busy_builders,
    delivery_speed,
    event_delivery,
    event_understanding,
    load_generator,
    load_understanding,
    optimize_speed,
    outbox_backlog,
    parked_load,
    review_speed,
    sign_in_understanding,
    slack_load,
    tracing_cost,
)
from bot.app import TemporalLink, build_app
from cli.identity import DEV_DEVELOPERS
from shipmate.settings import Settings
from slack_emulator.server import EmulatorConfig, EmulatorServer
from slack_emulator.workspace import DEFAULT_SEED
from understanding import parse_request

HELD_OUT = Path(__file__).parent / "held_out_requests.jsonl"
FINAL = Path(__file__).parent / "final_requests.jsonl"
FOURTH = Path(__file__).parent / "fourth_requests.jsonl"
SPECS = {
    "1 entity": "build a todo api",
    "3 entities": "shop api: customers have name and email (unique); orders have customer, "
    "total (decimal) and status; products have sku (unique) and price (decimal)",
    "5 entities": "library api: authors have name; books have title, isbn (unique) and author; "
    "members have email (unique) and name; loans have book, member and due date; "
    "branches have city and opened_on date",
}


def generation(rounds: int = 5) -> None:
    print(
        f"generation (render + ruff format + write), median of {rounds}; "
        "then the generated tests on SQLite, once"
    )
    for label, text in SPECS.items():
        spec = parse_request(text).spec
        times = []
        for _ in range(rounds):
            with tempfile.TemporaryDirectory() as out:
                started = time.perf_counter()
                _, files = write_service(spec, Path(out))
                times.append(time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as out:
            write_service(spec, Path(out))
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                cwd=out,
                capture_output=True,
                text=True,
            )
            tested = time.perf_counter() - started
        summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "no output"
        print(
            f"  {label:<11} {len(spec.entities)} entities, {files:>3} files: "
            f"{statistics.median(times) * 1000:6.1f} ms; tests {tested:4.1f} s ({summary})"
        )


async def ack_latency(messages: int = 200) -> None:
    tokens = DEFAULT_SEED["tokens"]
    emulator = await EmulatorServer(EmulatorConfig(port=0, rate_limits=False)).start()
    settings = Settings(
        developers=list(DEV_DEVELOPERS),  # as under `shipmate dev`
        slack_bot_token=SecretStr(tokens["bot"]),
        slack_api_url=f"{emulator.base_url}/api/",
        temporal_address="127.0.0.1:1",
    )  # acks must not wait on Temporal
    handler = AsyncSocketModeHandler(
        build_app(settings, TemporalLink(settings)),
        tokens["app"],
        web_client=AsyncWebClient(base_url=f"{emulator.base_url}/api/"),
    )
    await handler.connect_async()
    async with httpx.AsyncClient() as web:
        for n in range(messages):
            text = "<@U0SHIPMATE> help" if n % 2 else "<@U0SHIPMATE> build a todo api"
            await web.post(
                f"{emulator.base_url}/_emulator/messages",
                json={"user": "U0ALICE", "channel": "C0GENERAL", "text": text},
            )
        await asyncio.sleep(2)
        data = (await web.get(f"{emulator.base_url}/_emulator/deliveries")).json()
    await handler.close_async()
    await emulator.stop()
    latencies = sorted(d["ack_latency_ms"] for d in data["deliveries"] if d["ack_latency_ms"])
    stats = data["stats"]
    print(
        f"ack latency over {stats['total']} envelopes ({stats['acked']} acked, "
        f"{stats['failed']} failed): p50 {stats['p50_ms']} ms, p99 {stats['p99_ms']} ms, "
        f"max {latencies[-1] if latencies else None} ms"
    )


def understanding() -> None:
    from testkit import request_sets
    from testkit.request_table import CASES, shape

    shape("build a todo api")  # the spelling dictionary loads once per process
    started = time.perf_counter()
    misses = [text for text, want in CASES if shape(text) != want]
    each = (time.perf_counter() - started) / len(CASES) * 1000
    exact = len(CASES) - len(misses)
    print(
        f"understanding: {exact}/{len(CASES)} table requests read exactly "
        f"({exact / len(CASES):.1%}), {each:.1f} ms each; misses: {misses}"
    )
    for label, path in (
        ("set 1 (written blind, then read while mending the readers)", request_sets.UNSEEN),
        ("set 2 (written blind, scored, then read while mending)", HELD_OUT),
        ("set 3 (written blind, scored; 10 rows glimpsed while building reviews)", FINAL),
        ("set 4 (written blind, scored, never read)", FOURTH),
    ):
        score = request_sets.score(request_sets.load(path))
        print(
            f"understanding, {label}: {len(score.exact)}/{score.total} exact "
            f"({len(score.exact) / score.total:.1%}), {len(score.partly)} partly right, "
            f"{len(score.wrong)} wrong, {len(score.silent)} silently different"
        )


if __name__ == "__main__":
    import logging

    logging.disable(logging.WARNING)  # the engine-down replies are expected here
    understanding()
    load_understanding.main()
    event_understanding.main()
    sign_in_understanding.main()
    generation()
    asyncio.run(ack_latency())
    asyncio.run(slack_load.main())
    asyncio.run(busy_builders.main())
    asyncio.run(outbox_backlog.main())
    asyncio.run(delivery_speed.main())
    asyncio.run(parked_load.main())
    asyncio.run(review_speed.main())
    load_generator.main()
    asyncio.run(optimize_speed.main())
    event_delivery.main()
    tracing_cost.main()
