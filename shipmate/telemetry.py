"""Traces and metrics: what an operator needs to follow a delivery from Slack to its stages.

Tracing is OpenTelemetry: the bot opens a span per Slack request (bot.traced_app) and
temporalio's TracingInterceptor carries it into the workflows and their activities, so
one trace holds a delivery. It is on only when an OTLP endpoint is configured.
Metrics are Prometheus, served by Temporal's own Runtime, so the SDK's metrics (stage
durations as activity latency per activity type, task slots, pollers) and Shipmate's
own come from one /metrics per process. Only ids become attributes or labels.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.common import MetricMeter
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError
from temporalio.worker import HandleUpdateInput

from shipmate.settings import Settings
from workflows import search
from workflows.models import DeliveryState

log = logging.getLogger(__name__)

# Stages take from a second (tests) to many minutes (a build); Core's default buckets stop
# short of that. Seconds, as durations_as_seconds makes them.
STAGE_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600]
# States a delivery leaves only by moving on: counted among open executions only, so one
# terminated by hand does not count as running for ever.
IN_FLIGHT = (DeliveryState.running, DeliveryState.waiting_for_approval)

# An open gate that closes within this long is "about to expire" (the reminder's default).
EXPIRING_WITHIN = timedelta(hours=1)
ASKED_AT_ONCE = 32  # queries in flight while counting gates and outbox backlogs
QUERY_TIMEOUT = timedelta(seconds=3)  # a workflow whose worker is gone answers nothing

# Where the OTLP exporter looks when SHIPMATE_OTLP_ENDPOINT is unset, as every SDK does.
OTLP_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")

_provider: TracerProvider | None = None
_runtime: Runtime | None = None


def setup(settings: Settings, role: str) -> None:
    """Everything a process (role: "bot" or "worker") needs, before its first client."""
    start_tracing(settings, role)
    start_metrics(settings, role)


def start_tracing(
    settings: Settings, role: str, *, exporter: SpanExporter | None = None, install_global=True
) -> TracerProvider | None:
    """A tracer provider for service.name shipmate-<role>, exporting over OTLP/HTTP when an
    endpoint is configured; `exporter` (tests) sends spans there at once instead."""
    global _provider
    if exporter is None:
        if not (settings.otlp_endpoint or any(os.environ.get(v) for v in OTLP_VARIABLES)):
            return None
        processor = BatchSpanProcessor(_otlp_exporter(settings))
    else:
        processor = SimpleSpanProcessor(exporter)
    provider = TracerProvider(resource=Resource.create({"service.name": f"shipmate-{role}"}))
    provider.add_span_processor(processor)
    _provider = provider
    if install_global:  # for libraries that trace through the global API
        trace.set_tracer_provider(provider)
    return provider


def _otlp_exporter(settings: Settings) -> SpanExporter:
    """The exporter reads OTEL_EXPORTER_OTLP_* (headers, timeouts) itself; a base URL in
    SHIPMATE_OTLP_ENDPOINT gets the traces path, as the standard variable does."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if not settings.otlp_endpoint:
        return OTLPSpanExporter()
    url = settings.otlp_endpoint.rstrip("/")
    return OTLPSpanExporter(endpoint=url if url.endswith("/v1/traces") else f"{url}/v1/traces")


def start_metrics(
    settings: Settings, role: str, *, port: int | None = None, install_default: bool = True
) -> Runtime | None:
    """A Runtime serving /metrics on the role's port (0: none). Made the default runtime,
    so every client of the process, and the workers built on them, report through it."""
    global _runtime
    port = getattr(settings, f"{role}_metrics_port", 0) if port is None else port
    if not port:
        return None
    config = PrometheusConfig(
        bind_address=f"{settings.metrics_host}:{port}",
        counters_total_suffix=True,
        durations_as_seconds=True,
        histogram_bucket_overrides={"temporal_activity_execution_latency": STAGE_BUCKETS},
    )
    telemetry = TelemetryConfig(metrics=config, global_tags={"shipmate_role": role})
    _runtime = Runtime(telemetry=telemetry)
    if install_default:
        Runtime.set_default(_runtime, error_if_already_set=False)
    return _runtime


def stop() -> None:
    """Flush and forget what start_tracing and start_metrics made (tests, shutdown)."""
    global _provider, _runtime
    if _provider is not None:
        _provider.shutdown()
    _provider = _runtime = None


def interceptors() -> list[TracingInterceptor]:
    """For Client.connect (workers inherit them): none while tracing is off."""
    return [_Interceptor(_provider.get_tracer("temporalio"))] if _provider else []


class _Interceptor(TracingInterceptor):
    """temporalio's, with deliveries traced under the request that asked for them."""

    def workflow_interceptor_class(self, input):
        super().workflow_interceptor_class(input)  # registers the span-making extern
        return _WorkflowInterceptor


class _WorkflowInterceptor(TracingWorkflowInboundInterceptor):
    """A service entity lives for many requests and its trace context is its first one's,
    so a delivery it starts is put under the update that queued it (the updates' headers
    are in history: a replay rebuilds the map)."""

    def __init__(self, next):
        super().__init__(next)
        self._asked: dict[str, dict] = {}  # delivery id -> its request's trace context

    async def handle_update_handler(self, input: HandleUpdateInput):
        result = await super().handle_update_handler(input)
        header = input.headers.get(self.header_key)
        if header and isinstance(delivery_id := getattr(result, "delivery_id", None), str):
            self._asked[delivery_id] = self.payload_converter.from_payloads([header])[0]
        return result

    def _completed_span(self, span_name: str, **options) -> None:
        child = options.get("add_to_outbound")
        carrier = self._asked.pop(getattr(child, "id", None) or "", None)
        if not (span_name.startswith("StartChildWorkflow:") and carrier):
            return super()._completed_span(span_name, **options)
        token = context.attach(self._set_on_context(self.text_map_propagator.extract(carrier)))
        try:
            return super()._completed_span(span_name, **options)
        finally:
            context.detach(token)


def tracer() -> trace.Tracer:
    return (_provider or trace.get_tracer_provider()).get_tracer("shipmate")


def meter() -> MetricMeter:
    """Shipmate's own metrics go where the SDK's go: this process's /metrics, if any."""
    return _runtime.metric_meter if _runtime else MetricMeter.noop


async def count_deliveries(client: Client) -> dict[str, int]:
    """Deliveries Temporal's visibility holds, by their current state (ShipmateState)."""
    counts = {}
    for state in DeliveryState:
        query = search.deliveries(running=state in IN_FLIGHT, state=state.value)
        counts[state.value] = (await client.count_workflows(query)).count
    return counts


async def count_gates_expiring(client: Client, within: timedelta = EXPIRING_WITHIN) -> int:
    """Open approval gates that close within `within` unless someone decides, asked of
    each delivery waiting for approval (visibility does not hold a gate's expiry)."""
    from workflows.delivery_workflow import DeliveryWorkflow  # the workflows: only here
    from workflows.models import DeliveryStatus, GateState

    query = search.deliveries(running=True, state=DeliveryState.waiting_for_approval.value)
    soon = datetime.now(UTC) + within

    async def expiring(workflow_id: str) -> int:
        status = await client.get_workflow_handle(workflow_id).query(
            DeliveryWorkflow.status, result_type=DeliveryStatus, rpc_timeout=QUERY_TIMEOUT
        )
        return sum(
            1
            for gate in status.gates
            if gate.state == GateState.open and gate.expires_at and gate.expires_at <= soon
        )

    return await _sum_over(client, query, expiring)


async def count_outbox_backlog(client: Client) -> int:
    """Slack messages and card edits queued in every running outbox, not yet sent."""
    from workflows.outbox_workflow import OUTBOX_TYPE

    async def waiting(workflow_id: str) -> int:
        handle = client.get_workflow_handle(workflow_id)
        return await handle.query("waiting", result_type=int, rpc_timeout=QUERY_TIMEOUT)

    return await _sum_over(client, search.query(OUTBOX_TYPE, running=True), waiting)


async def _sum_over(
    client: Client, query: str, count: Callable[[str], Awaitable[int]], limit: int = 1000
) -> int:
    """The sum of `count` over the workflows the query finds, a few asked at once; one
    that does not answer (closed meanwhile, no worker) counts nothing this time."""
    ids = [e.id async for e in client.list_workflows(query, limit=limit)]
    room = asyncio.Semaphore(ASKED_AT_ONCE)

    async def one(workflow_id: str) -> int:
        async with room:
            try:
                return await count(workflow_id)
            except (RPCError, WorkflowQueryFailedError):
                return 0

    return sum(await asyncio.gather(*(one(i) for i in ids)))


async def report_deliveries(client: Client, every: float = 30.0) -> None:
    """Keeps shipmate_deliveries{state}, shipmate_approvals_waiting, shipmate_gates_expiring
    and shipmate_outbox_backlog current, from visibility and the workflows' queries: the
    workflows hold the truth, so every worker reports the same numbers (dashboards take
    max), and a restarted one reports them at once."""
    meter = (client.service_client.config.runtime or Runtime.default()).metric_meter
    if meter is MetricMeter.noop:
        return  # no /metrics in this process: nothing to count for
    deliveries = meter.create_gauge(
        "shipmate_deliveries", "Deliveries by their current state (open ones for in-flight)"
    )
    waiting = meter.create_gauge(
        "shipmate_approvals_waiting", "Deliveries waiting at an open approval gate"
    )
    expiring = meter.create_gauge(
        "shipmate_gates_expiring", "Open approval gates that expire within the hour"
    )
    backlog = meter.create_gauge(
        "shipmate_outbox_backlog", "Slack messages and card edits queued in the outboxes"
    )
    while True:
        try:
            counts = await count_deliveries(client)
            for state, count in counts.items():
                deliveries.set(count, {"state": state})
            waiting.set(counts[DeliveryState.waiting_for_approval.value])
            # then the counts that ask each workflow (one with no worker takes a while)
            expiring.set(await count_gates_expiring(client))
            backlog.set(await count_outbox_backlog(client))
        except RPCError as exc:  # search attributes not registered, engine away: try later
            log.warning("cannot count deliveries: %s", exc.message)
        await asyncio.sleep(every)
