"""deploy/prometheus/shipmate-alerts.yml alerts on what Shipmate's worker really exports.

A rule whose expression names a metric no process serves never fires, and nobody
notices until the day it should have. The file is read as Prometheus loads it (YAML
groups of rules), checked for what Prometheus and Alertmanager need, and every metric
and label its expressions name is looked up in the /metrics of a real `shipmate worker`
that met what the rules are about: a workflow task that failed (a workflow type no
worker registers, as an old worker left on the queue would see), a Slack post that
failed its attempt on a 429 and waited in the outbox, and a delivery parked at a gate
that closes within the hour.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import yaml

from cli import devstack
from shipmate import outbox_client, telemetry
from testkit.chat import TOKENS
from testkit.waiting import eventually
from testkit.worker_processes import start_worker, stop
from tests.shipmate.test_grafana_dashboard import GROUPING, METRIC, labels_by_metric
from tests.shipmate.test_observability_processes import scrape, total
from tests.workflows.test_slack_outbox import storm
from tests.workflows.test_workflows import gate_open, start, until
from workflows.outbox_messages import OutgoingMessage
from workflows.outbox_workflow import outbox_id
from workflows.queues import SLACK, queue_name

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "shipmate-alerts.yml"
DURATION = re.compile(r"^\d+[smhdwy]$")
SEVERITIES = {"critical", "warning", "info"}
# What issue 28 asks the rules to watch, by the metric each one reads.
WATCHED = {
    "temporal_workflow_task_execution_failed_total": "workflow task failures",
    "shipmate_gates_expiring": "gates about to expire",
    "shipmate_outbox_backlog": "outbox backlog",
    "temporal_activity_execution_failed_total": "activity retries",
}


def rules() -> list[dict]:
    loaded = yaml.safe_load(RULES.read_text())
    assert set(loaded) == {"groups"} and loaded["groups"], "Prometheus wants groups only"
    found = []
    for group in loaded["groups"]:
        assert group["name"] and group["rules"], group
        found += group["rules"]
    return found


def kept_labels(expr: str) -> set[str]:
    """The labels an expression's aggregations keep (`by (...)`)."""
    return {label.strip() for found in GROUPING.findall(expr) for label in found.split(",")} - {""}


def test_every_rule_has_what_prometheus_and_alertmanager_need():
    problems = []
    names = [rule.get("alert") for rule in rules()]
    assert len(names) == len(set(names)), names
    for rule in rules():
        name = rule.get("alert", "?")
        if not re.fullmatch(r"Shipmate[A-Z]\w+", name):
            problems.append(f"{name}: alert names start with Shipmate, in CamelCase")
        if not isinstance(rule.get("expr"), str) or not METRIC.search(rule["expr"]):
            problems.append(f"{name}: no expr over a shipmate_ or temporal_ metric")
            continue
        if not DURATION.match(str(rule.get("for", ""))):
            problems.append(f"{name}: `for` must be a duration such as 5m")
        if rule.get("labels", {}).get("severity") not in SEVERITIES:
            problems.append(f"{name}: labels.severity must be one of {sorted(SEVERITIES)}")
        if not rule.get("annotations", {}).get("summary"):
            problems.append(f"{name}: annotations.summary says what happened")
        if set(rule) - {"alert", "expr", "for", "labels", "annotations"}:
            problems.append(f"{name}: unknown keys {sorted(set(rule))}")
        # A {{ $labels.x }} in a message is empty unless the expression keeps x.
        kept = {
            label.strip() for found in GROUPING.findall(rule["expr"]) for label in found.split(",")
        }
        used = set(re.findall(r"\$labels\.(\w+)", str(rule.get("annotations", {}))))
        if missing := used - kept:
            problems.append(f"{name}: the messages name {sorted(missing)}, the expr drops it")
    assert problems == []
    watched = {name for rule in rules() for name, _ in METRIC.findall(rule["expr"])}
    assert {WATCHED[m] for m in WATCHED if m in watched} == set(WATCHED.values())


def test_the_readme_and_the_chart_point_at_the_rules():
    assert "deploy/prometheus/shipmate-alerts.yml" in (ROOT / "README.md").read_text()
    values = ROOT / "deploy" / "helm" / "shipmate" / "values.yaml"
    assert "deploy/prometheus/shipmate-alerts.yml" in values.read_text()


async def test_every_rule_reads_metrics_and_labels_a_real_worker_exports(
    client, settings, fake, emulator, tmp_path
):
    _, parked_settings = fake
    parked, _ = await start(client, parked_settings, "build a todo api")
    await until(parked, gate_open("staging"))  # its gate closes within the session's hour

    async def gate_visible():
        query = "WorkflowType = 'DeliveryWorkflow' AND ShipmateState = 'waiting_for_approval'"
        return (await client.count_workflows(f"{query} AND WorkflowId = '{parked.id}'")).count

    await eventually(gate_visible, what="the parked delivery in visibility")

    queue, port, log = f"alerts-{uuid.uuid4().hex[:6]}", devstack.free_port(), tmp_path / "w.log"
    worker = start_worker(
        settings,
        queue,
        log,
        worker_metrics_port=str(port),
        slack_api_url=f"{emulator.base_url}/api/",
        slack_bot_token=TOKENS["bot"],
    )
    outbox = client.get_workflow_handle(outbox_id(queue, "C0GENERAL"))
    unknown = f"no-such-workflow-{uuid.uuid4().hex[:6]}"
    try:
        # its build current: the work goes to it from now on (shipmate/worker_versions.py)
        await eventually(lambda: "is current" in log.read_text(), what="the worker's build current")

        # Slack answers 429 for a while: the posts wait in the outbox, counted as backlog.
        await storm(emulator, 20)
        keys = [f"alerts-{uuid.uuid4().hex[:6]}" for _ in range(8)]
        for key in keys:
            message = OutgoingMessage(key=key, channel="C0GENERAL", text=f"queued {key}")
            await outbox_client.enqueue(client, queue, message)
        await eventually(
            lambda: _at_least(telemetry.count_outbox_backlog(client), 5),
            interval=0.5,
            what="the queued posts counted as the outbox's backlog",
        )
        assert await telemetry.count_gates_expiring(client) >= 1

        # A workflow type no worker on the queue registers: its tasks fail, again and again.
        await client.start_workflow("NoSuchWorkflow", id=unknown, task_queue=queue)

        async def exported():
            try:
                metrics = await scrape(port)
            except httpx.TransportError:
                return None
            seen = (
                total(metrics, "temporal_workflow_task_execution_failed_total", task_queue=queue),
                total(
                    metrics,
                    "temporal_activity_execution_failed_total",
                    task_queue=queue_name(queue, SLACK),
                ),
                total(metrics, "shipmate_gates_expiring"),
                # set after the gates, in the same round: a scrape between has it not yet
                "shipmate_outbox_backlog" in labels_by_metric(metrics),
            )
            return metrics if all(seen) else None

        metrics = await eventually(
            exported, timeout=120, interval=1, what="the failures and the parked gate in /metrics"
        )
    finally:
        stop(worker)
        for handle in (outbox, client.get_workflow_handle(unknown), parked):
            try:
                await handle.terminate("test done")
            except Exception:  # already ended, or never started
                pass

    exported_labels = labels_by_metric(metrics)
    problems = []
    for rule in rules():
        kept = kept_labels(rule["expr"])
        for name, selector in METRIC.findall(rule["expr"]):
            if name not in exported_labels:
                problems.append(f"{rule['alert']}: the worker exports no {name}")
                continue
            selected = set(re.findall(r"(\w+)\s*=~?", selector or ""))
            if missing := (selected | kept) - exported_labels[name]:
                problems.append(f"{rule['alert']}: {name} has no {sorted(missing)}")
    assert problems == []


async def _at_least(count, least: int) -> bool:
    return await count >= least
