"""Logs an operator can follow a delivery through: with SHIPMATE_LOG_FORMAT=json every
line is one JSON object, and a line written inside a stage or a workflow names it."""

from __future__ import annotations

import io
import json
import logging
import signal
import uuid

from temporalio import activity
from temporalio.testing import ActivityEnvironment

from shipmate.logs import JsonLines
from testkit.waiting import eventually_sync
from testkit.worker_processes import start_worker, stop


def captured(run) -> list[dict]:
    """The JSON lines logged while `run()` runs."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        run()
    finally:
        root.removeHandler(handler)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_line_written_in_a_stage_names_its_workflow_run_and_activity():
    env = ActivityEnvironment()

    def stage() -> None:
        logging.getLogger("activities.images").warning("the build is slow")
        activity.logger.warning("through Temporal's own logger")

    lines = captured(lambda: env.run(stage))
    info = env.info
    for line in lines:
        assert line["workflow_id"] == info.workflow_id
        assert line["run_id"] == info.workflow_run_id
        assert line["activity"] == info.activity_type
        assert line["attempt"] == info.attempt
        assert line["level"] == "WARNING"
    assert lines[0]["message"] == "the build is slow"
    assert lines[0]["logger"] == "activities.images"
    assert lines[1]["message"].startswith("through Temporal's own logger")


def test_a_line_written_in_a_workflow_names_it():
    record = logging.LogRecord(
        "temporalio.workflow", logging.INFO, __file__, 1, "gate open", (), None
    )
    record.temporal_workflow = {  # what Temporal's workflow.logger puts on its records
        "workflow_id": "delivery/orders-api/3-ab12cd",
        "run_id": "0b6c…",
        "workflow_type": "DeliveryWorkflow",
        "task_queue": "shipmate",
        "namespace": "default",
    }
    line = json.loads(JsonLines().format(record))
    assert line["workflow_id"] == "delivery/orders-api/3-ab12cd"
    assert line["workflow_type"] == "DeliveryWorkflow" and line["run_id"] == "0b6c…"
    assert "namespace" not in line and "activity" not in line


def test_a_worker_process_logs_json_lines_from_start_to_stop(settings, tmp_path):
    log = tmp_path / "worker.log"
    queue = f"logs-{uuid.uuid4().hex[:6]}"
    worker = start_worker(settings, queue, log, log_format="json")
    try:
        eventually_sync(lambda: "worker polling task queue" in log.read_text(), what="polling")
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    finally:
        stop(worker)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    messages = [line["message"] for line in lines]
    assert f"worker polling task queue {queue!r}" in messages
    assert messages[-1] == "worker stopped"
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
