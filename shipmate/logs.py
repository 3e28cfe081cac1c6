"""How Shipmate's processes log: one JSON object a line where logs are collected
(`SHIPMATE_LOG_FORMAT=json`, as the Helm chart and compose set it), plain lines at a
terminal. A line written inside a stage or a workflow names it (workflow id, run id,
activity and attempt), so an operator can follow one delivery through many workers.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from temporalio import activity

from shipmate.settings import Settings

TEXT = "%(levelname)s %(name)s: %(message)s"
# What Temporal's own loggers put on a record (`temporal_activity`, `temporal_workflow`),
# by the names a log line uses.
IDS = {
    "workflow_id": "workflow_id",
    "workflow_run_id": "run_id",
    "run_id": "run_id",
    "workflow_type": "workflow_type",
    "activity_type": "activity",
    "activity_id": "activity_id",
    "attempt": "attempt",
    "task_queue": "task_queue",
}


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **temporal_ids(record),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def temporal_ids(record: logging.LogRecord) -> dict[str, object]:
    """The workflow and activity a record was written in, if any."""
    found = getattr(record, "temporal_activity", None) or getattr(record, "temporal_workflow", None)
    if not found and activity.in_activity():  # a module's own logger, inside a stage
        info = activity.info()
        found = {
            "workflow_id": info.workflow_id,
            "workflow_run_id": info.workflow_run_id,
            "workflow_type": info.workflow_type,
            "activity_type": info.activity_type,
            "activity_id": info.activity_id,
            "attempt": info.attempt,
            "task_queue": info.task_queue,
        }
    return {IDS[key]: value for key, value in (found or {}).items() if key in IDS}


def configure(settings: Settings, level: int = logging.INFO) -> None:
    """The process's logging, on stdout: JSON lines or plain ones, as settings say."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLines() if settings.log_format == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
