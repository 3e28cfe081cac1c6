"""deploy/grafana/shipmate-dashboard.json draws what Shipmate's processes really export.

A panel whose query names a metric no process serves, or groups by a label its series
lack, is empty on the day it is needed. The dashboard is read as Grafana imports it
(JSON, a Prometheus data source), and every metric and label its queries name is looked
up in the /metrics of a real worker (which met a 429 and a failed stage attempt) and a
real bot (which acked a mention).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.shipmate.test_observability_processes import (
    bot_through_a_mention,
    samples,
    worker_through_a_429,
)

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "shipmate-dashboard.json"
METRIC = re.compile(r"\b((?:shipmate|temporal)_[a-z_]+)(\{[^}]*\})?")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    assert any(v["type"] == "datasource" for v in dashboard["templating"]["list"])
    return [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if target.get("expr")
    ]


def labels_by_metric(metrics: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name, tags, _ in samples(metrics):
        found.setdefault(name, set()).update(re.findall(r'(\w+)="', tags))
    return found


async def test_every_dashboard_query_names_metrics_and_labels_shipmate_exports(
    settings, client, emulator, chat, tmp_path
):
    worker_metrics, *_ = await worker_through_a_429(settings, client, emulator, chat, tmp_path)
    bot_metrics = await bot_through_a_mention(settings, emulator, chat, tmp_path, {})
    exported = labels_by_metric(worker_metrics)
    for name, labels in labels_by_metric(bot_metrics).items():
        exported.setdefault(name, set()).update(labels)

    panels = queries()
    assert len(panels) >= 10
    problems = []
    for query in panels:
        grouped = {
            label.strip() for found in GROUPING.findall(query) for label in found.split(",")
        } - {""}
        names = METRIC.findall(query)
        assert names, query
        for name, selector in names:
            if name not in exported:
                problems.append(f"{query}: no process exports {name}")
                continue
            selected = set(re.findall(r"(\w+)\s*=~?", selector or ""))
            if missing := (selected | grouped) - exported[name]:
                problems.append(f"{query}: {name} has no {sorted(missing)}")
    assert problems == []
