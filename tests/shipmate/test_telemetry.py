"""Traces and metrics come out of a delivery, as an operator would look for them.

A request goes through the emulator to the real bot, the real workflows and the real
Slack outbox on a worker with scripted stages, with Slack's rate limits stormed once
along the way; the client carries Shipmate's tracing interceptors and a Runtime that
serves /metrics. Then: one trace from the Slack event to every stage, and the metrics
a dashboard reads.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from bot.app import build_app
from bot.temporal_link import TemporalLink
from bot.traced_app import slack_event_span, slack_kind
from cli import devstack
from shipmate import delivery_client, telemetry
from shipmate.settings import EnvironmentPolicy
from testkit.chat import TOKENS, Chat, letters
from testkit.fake_stages import Script, on_every_queue, worker_with_slack
from testkit.waiting import eventually
from tests.workflows.test_slack_outbox import storm
from tests.workflows.test_workflows import unique, until
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import DeliveryState
from workflows.service_workflow import ServiceWorkflow

STAGES = [
    "scaffold_service",
    "test_service",
    "build_service_image",
    "push_service_image",
    "deploy_service",
    "verify_service",
]


class LinkTo(TemporalLink):
    """The bot's link to Temporal, handed the observed client instead of connecting one."""

    def __init__(self, settings, client: Client):
        super().__init__(settings)
        self._client = client


@pytest.fixture()
async def observed(slack_settings):
    """Spans kept in memory, and a Runtime serving /metrics on a free port."""
    spans = InMemorySpanExporter()
    telemetry.start_tracing(slack_settings, "test", exporter=spans, install_global=False)
    port = devstack.free_port()
    runtime = telemetry.start_metrics(slack_settings, "test", port=port, install_default=False)
    client = await Client.connect(
        slack_settings.temporal_address,
        data_converter=pydantic_data_converter,
        interceptors=telemetry.interceptors(),
        runtime=runtime,
    )
    yield client, spans, f"http://127.0.0.1:{port}/metrics"
    telemetry.stop()


def value(metrics: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    total, found = 0.0, False
    for line in metrics.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            total, found = total + float(match.group(2)), True
    assert found, f"no {name} with {labels} in /metrics"
    return total


async def scrape_once_counted(url: str) -> str | None:
    """/metrics, once the gauges count the finished delivery (visibility lags a little)."""
    async with httpx.AsyncClient() as web:
        response = await web.get(url)
    assert response.status_code == 200
    succeeded = re.compile(r'^shipmate_deliveries\{[^}]*state="succeeded"[^}]*\} (\d+)$', re.M)
    found = succeeded.search(response.text)
    return response.text if found and int(found.group(1)) >= 1 else None


async def test_a_delivery_is_one_trace_and_shows_in_the_metrics(
    observed, slack_settings, emulator, chat: Chat
):
    client, spans, metrics_url = observed
    handler = AsyncSocketModeHandler(
        build_app(slack_settings, LinkTo(slack_settings, client)),
        TOKENS["app"],
        web_client=AsyncWebClient(base_url=f"{emulator.base_url}/api/"),
    )
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with worker_with_slack(client, slack_settings, Script(), executor):
            await handler.connect_async()
            await eventually(lambda: emulator.events.sockets, what="the bot's socket")
            reporting = asyncio.create_task(telemetry.report_deliveries(client, every=0.5))
            try:
                ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a lynx{letters()} api")
                await chat.wait_for(ts, lambda r: r["text"].startswith("On it"))
                await storm(emulator, 2)  # the outbox meets 429s, waits, and goes on
                card = await chat.card(ts, "waiting for approval", timeout=45)
                await chat.click("U0BOB", card["ts"], "approve")
                await chat.card(ts, "delivered", timeout=45)
                metrics = await eventually(
                    lambda: scrape_once_counted(metrics_url), timeout=30, what="the gauges"
                )
            finally:
                reporting.cancel()
                await handler.close_async()

    # One trace from the mention to every stage.
    finished = spans.get_finished_spans()
    (mention,) = [s for s in finished if s.name == "slack app_mention"]
    trace = [s for s in finished if s.context.trace_id == mention.context.trace_id]
    start = next(s for s in trace if s.name == "StartUpdateWithStartWorkflow:ServiceWorkflow")
    assert start.parent.span_id == mention.context.span_id
    assert {
        "HandleUpdate:request_change",
        "RunWorkflow:ServiceWorkflow",
        "StartChildWorkflow:DeliveryWorkflow",
        "RunWorkflow:DeliveryWorkflow",
        *(f"RunActivity:{stage}" for stage in STAGES),
    } <= {s.name for s in trace}
    # The click is a trace of its own, reaching the delivery's approve update.
    (click,) = [s for s in finished if s.name == "slack block_actions approve"]
    assert "StartWorkflowUpdate:approve" in {
        s.name for s in finished if s.context.trace_id == click.context.trace_id
    }
    # Ids only: no token and nothing a person wrote.
    attributes = " ".join(str(v) for s in finished for v in (s.attributes or {}).values())
    for secret in (*TOKENS.values(), "build a lynx"):
        assert secret not in attributes
    assert mention.attributes["slack.user"] == "U0ALICE"

    # What the dashboard reads.
    assert value(metrics, "shipmate_slack_acks_total", kind="app_mention") >= 1
    assert value(metrics, "shipmate_slack_acks_total", kind="block_actions") >= 1
    assert value(metrics, "shipmate_slack_rate_limited_total", activity_type="send_to_slack") > 0
    for stage in STAGES:  # stage durations, in seconds
        assert value(metrics, "temporal_activity_execution_latency_count", activity_type=stage)
    assert value(metrics, "shipmate_approvals_waiting") >= 0
    assert value(metrics, "temporal_worker_task_slots_available", worker_type="ActivityWorker")
    assert value(metrics, "temporal_num_pollers", poller_type="activity_task")


async def test_each_change_to_a_service_is_traced_under_its_own_request(observed, slack_settings):
    """The service entity outlives its first request; a change queued behind another is
    still traced under the Slack event that asked for it."""
    client, spans, _ = observed
    local = slack_settings.model_copy(
        update={"approval_policies": {"staging": EnvironmentPolicy(gate=False)}}
    )
    script = Script(settings=local)
    script.block["scaffold_service"] = asyncio.Event()  # so the second change queues
    text, spec = unique("build a todo api")
    asked = {}
    async with on_every_queue(
        client,
        task_queue=local.task_queue,
        workflows=[ServiceWorkflow, DeliveryWorkflow],
        activities=script.activities(),
    ):
        for n, words in enumerate((text, text + " v2")):
            body = {"type": "event_callback", "event": {"type": "app_mention", "ts": str(n)}}
            with slack_event_span(body) as span:
                ticket = await delivery_client.request_change(client, local, words, spec, "U0ALICE")
            asked[ticket.delivery_id] = span.get_span_context().trace_id
        script.block["scaffold_service"].set()
        for delivery_id in asked:  # the second starts once the first is done
            handle = client.get_workflow_handle_for(DeliveryWorkflow.run, delivery_id)
            await until(handle, lambda status: status.state == DeliveryState.succeeded)

    runs = {
        s.attributes["temporalWorkflowID"]: s.context.trace_id
        for s in spans.get_finished_spans()
        if s.name == "RunWorkflow:DeliveryWorkflow"
    }
    assert {d: runs[d] for d in asked} == asked
    assert len(set(asked.values())) == 2


def test_tracing_is_off_without_an_endpoint_and_names_the_requests(settings, monkeypatch):
    for name in telemetry.OTLP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert telemetry.start_tracing(settings, "bot") is None
    assert telemetry.interceptors() == []
    assert telemetry.start_metrics(settings, "worker") is None  # port 0: no endpoint
    with slack_event_span({"type": "event_callback", "event": {"type": "x"}}) as span:
        assert not span.is_recording()  # a no-op, costing nothing
    assert slack_kind({"command": "/shipmate", "text": "secret"}) == ("slash_command", "/shipmate")
    view = {"type": "view_submission", "view": {"callback_id": "decision"}}
    assert slack_kind(view) == ("view_submission", "decision")


def test_the_otlp_endpoint_gets_the_traces_path(settings):
    from shipmate.telemetry import _otlp_exporter

    local = settings.model_copy(update={"otlp_endpoint": "http://collector:4318/"})
    assert _otlp_exporter(local)._endpoint == "http://collector:4318/v1/traces"
