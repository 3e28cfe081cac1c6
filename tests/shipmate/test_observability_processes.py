"""What an operator's collector, Prometheus and log search get from real Shipmate processes.

`shipmate worker` and `shipmate bot` run as processes of their own, configured only by
environment variables as a deployment configures them: the standard OTEL_EXPORTER_OTLP_*
variables pointing at a small OTLP/HTTP collector here (which keeps every export and
its headers), a metrics port scraped over HTTP, and JSON logs. Then each process is
looked for by the names the README gives: `shipmate-worker` and `shipmate-bot`, the
`shipmate_role` label on every series, the SDK's stage failure, queue-wait and request
metrics, and the log fields that follow a stage across workers.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from cli import devstack
from shipmate import outbox_client
from testkit.chat import TOKENS
from testkit.waiting import eventually
from testkit.worker_processes import start_worker, stop
from tests.workflows.test_slack_outbox import storm
from workflows.outbox_messages import OutgoingMessage
from workflows.outbox_workflow import outbox_id
from workflows.queues import SLACK, queue_name

VENDOR_KEY = f"vk-{uuid.uuid4().hex[:8]}"
QUICK_EXPORTS = {"OTEL_BSP_SCHEDULE_DELAY": "200"}  # spans leave within 0.2 s, not 5 s


class Collector:
    """An OTLP/HTTP trace receiver: every export's spans, by the service.name it names."""

    def __init__(self):
        self.exports: list[tuple[dict, ExportTraceServiceRequest]] = []
        received = self.exports

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                received.append(({k.lower(): v for k, v in self.headers.items()}, request))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self, path: str = "/v1/traces") -> dict[str, set[str]]:
        """service.name -> the names of the spans it exported."""
        found: dict[str, set[str]] = {}
        for _, request in self.exports:
            for resource_spans in request.resource_spans:
                attributes = {
                    a.key: a.value.string_value for a in resource_spans.resource.attributes
                }
                names = found.setdefault(attributes.get("service.name", ""), set())
                names |= {s.name for scope in resource_spans.scope_spans for s in scope.spans}
        return found


@pytest.fixture()
def collector():
    running = Collector()
    yield running
    running.server.shutdown()


def samples(metrics: str) -> list[tuple[str, str, float]]:
    """(name, labels, value) of every sample in a Prometheus text exposition."""
    found = []
    for line in metrics.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        name, _, labels = series.partition("{")
        found.append((name, labels.rstrip("}"), float(value)))
    return found


def total(metrics: str, name: str, **labels: str) -> float | None:
    """The sum of `name`'s samples with these labels; None when there is none."""
    values = [
        value
        for sample, tags, value in samples(metrics)
        if sample == name and all(f'{k}="{v}"' in tags for k, v in labels.items())
    ]
    return sum(values) if values else None


async def scrape(port: int) -> str:
    async with httpx.AsyncClient() as web:
        response = await web.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert response.status_code == 200
    return response.text


def assert_every_series_names_its_role(metrics: str, role: str) -> None:
    unlabelled = [
        f"{n}{{{t}}}" for n, t, _ in samples(metrics) if f'shipmate_role="{role}"' not in t
    ]
    assert unlabelled == []


async def worker_through_a_429(settings, client, emulator, chat, tmp_path):
    """A `shipmate worker` whose Slack post meets a 429 (a failed attempt of
    `send_to_slack`), then posts on the retry; its /metrics, JSON log lines, queue and
    outbox handle once it has stopped."""
    queue, port, log = f"observed-{uuid.uuid4().hex[:6]}", devstack.free_port(), tmp_path / "w.log"
    worker = start_worker(
        settings,
        queue,
        log,
        log_format="json",
        worker_metrics_port=str(port),
        slack_api_url=f"{emulator.base_url}/api/",
        slack_bot_token=TOKENS["bot"],
    )
    outbox = client.get_workflow_handle(outbox_id(queue, "C0GENERAL"))
    key = f"observed-{uuid.uuid4().hex[:6]}"
    try:
        # its build current: the work goes to it from now on (shipmate/worker_versions.py)
        await eventually(lambda: "is current" in log.read_text(), what="the worker's build current")
        await storm(emulator, 2)
        message = OutgoingMessage(key=key, channel="C0GENERAL", text=f"seen {key}")
        await outbox_client.enqueue(client, queue, message)

        async def posted():
            return any(m.get("text") == f"seen {key}" for m in await chat.messages())

        await eventually(posted, timeout=60, what="the post after the 429")
        metrics = await scrape(port)
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    finally:
        stop(worker)
        try:
            await outbox.terminate("test done")
        except Exception:  # already ended
            pass
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return metrics, lines, queue, outbox


async def test_a_worker_process_reports_as_shipmate_worker_with_its_role_and_stage_ids(
    settings, client, emulator, chat, collector, tmp_path, monkeypatch
):
    """The failure, the wait and the stage ids of a retried Slack post must all show."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"x-vendor-key={VENDOR_KEY}")
    for name, value in QUICK_EXPORTS.items():
        monkeypatch.setenv(name, value)
    metrics, lines, queue, outbox = await worker_through_a_429(
        settings, client, emulator, chat, tmp_path
    )
    await eventually(
        lambda: "RunActivity:send_to_slack" in collector.spans().get("shipmate-worker", ()),
        what="the worker's spans at the collector",
    )

    # Prometheus: every series says which role it comes from; the SDK's stage metrics.
    assert_every_series_names_its_role(metrics, "worker")
    failed = "temporal_activity_execution_failed_total"
    slack_queue = queue_name(queue, SLACK)  # Slack calls have a queue of their own
    assert total(metrics, failed, activity_type="send_to_slack", task_queue=slack_queue) >= 1
    waited = "temporal_activity_schedule_to_start_latency_count"
    assert total(metrics, waited, task_queue=slack_queue) >= 2  # both attempts waited
    assert total(metrics, "temporal_request_latency_count") > 0
    # Traces: the worker's service name, sent where and with what the standard variables say.
    # (temporalio traces a workflow only under a caller's span; this outbox was started
    # untraced, so its stage's span is a root of its own)
    assert "RunActivity:send_to_slack" in collector.spans()["shipmate-worker"]
    assert set(collector.spans()) == {"shipmate-worker"}
    assert all(h.get("x-vendor-key") == VENDOR_KEY for h, _ in collector.exports)
    # Logs: a line written in the stage names its activity id and task queue.
    in_stage = [line for line in lines if line.get("activity") == "send_to_slack"]
    assert in_stage, [line["message"] for line in lines]
    for line in in_stage:
        assert line["task_queue"] == slack_queue
        assert line["activity_id"]
        assert line["workflow_id"] == outbox.id


async def bot_through_a_mention(
    settings, emulator, chat, tmp_path, otel: dict, collector=None
) -> str:
    """A `shipmate bot` (with these OTEL_* variables) that acks a mention; its /metrics,
    once the collector (if given) has the mention's span: the bot is killed after."""
    metrics_port = devstack.free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
        **otel,
        "SHIPMATE_TEMPORAL_ADDRESS": settings.temporal_address,
        "SHIPMATE_TASK_QUEUE": f"observed-bot-{uuid.uuid4().hex[:6]}",
        "SHIPMATE_SLACK_BOT_TOKEN": TOKENS["bot"],
        "SHIPMATE_SLACK_APP_TOKEN": TOKENS["app"],
        "SHIPMATE_SLACK_API_URL": f"{emulator.base_url}/api/",
        "SHIPMATE_BOT_PORT": str(devstack.free_port()),
        "SHIPMATE_BOT_METRICS_PORT": str(metrics_port),
        "SHIPMATE_LOG_FORMAT": "json",
    }
    with (tmp_path / "bot.log").open("ab") as out:
        bot = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "bot"], env=env, stdout=out, stderr=out
        )
    try:
        await eventually(lambda: emulator.events.sockets, what="the bot's socket")
        await chat.say("U0CAROL", "<@U0SHIPMATE> help")

        async def acked():
            try:
                metrics = await scrape(metrics_port)
            except httpx.TransportError:  # not listening yet
                return None
            counted = total(metrics, "shipmate_slack_acks_total", kind="app_mention")
            return metrics if counted and total(metrics, "temporal_request_latency_count") else None

        metrics = await eventually(acked, timeout=30, what="the ack in the bot's /metrics")
        if collector is not None:  # exported in the background: before the kill
            await eventually(
                lambda: "slack app_mention" in collector.spans().get("shipmate-bot", ()),
                what="the bot's span at the collector",
            )
        return metrics
    finally:
        stop(bot)


async def test_a_bot_process_reports_as_shipmate_bot_with_its_role(
    settings, emulator, chat, collector, tmp_path
):
    """The traces endpoint can also be given alone, as OTEL_EXPORTER_OTLP_TRACES_ENDPOINT."""
    otel = {
        **QUICK_EXPORTS,
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{collector.url}/v1/traces",
        "OTEL_EXPORTER_OTLP_HEADERS": f"x-vendor-key={VENDOR_KEY}",
    }
    metrics = await bot_through_a_mention(settings, emulator, chat, tmp_path, otel, collector)

    assert_every_series_names_its_role(metrics, "bot")
    assert total(metrics, "temporal_request_latency_count") > 0
    assert set(collector.spans()) == {"shipmate-bot"}
    assert all(h.get("x-vendor-key") == VENDOR_KEY for h, _ in collector.exports)
