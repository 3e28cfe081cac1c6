"""Recorded histories must replay against today's workflow code.

A change that would break deliveries already running (non-determinism) fails here.
Regenerate the fixtures only for a deliberate, versioned change:
`python -m tests.histories.record`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.delivery import DeliveryWorkflow
from workflows.service import ServiceWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_every_scenario_is_recorded():
    names = {path.stem for path in HISTORIES}
    for scenario in ("succeeded", "retried", "cancelled", "expired"):
        assert {f"delivery_{scenario}", f"service_{scenario}"} <= names
    # Recorded before the code was reorganised and never re-recorded: a delivery parked
    # at its prod gate (spec given, Slack thread, staging approved) must survive changes.
    assert {"parked_delivery", "parked_service"} <= names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays_without_nondeterminism(path):
    replayer = Replayer(
        workflows=[ServiceWorkflow, DeliveryWorkflow], data_converter=pydantic_data_converter
    )
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
