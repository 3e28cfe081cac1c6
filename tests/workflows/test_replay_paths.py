"""Every path has a kept history, and that history really went down its path.

The `path_*` fixtures (recorded by tests/workflows/histories/record_paths.py) replay
with today's code in test_replay.py. Here each is replayed against a variant of its
workflow with one activity call planted on that path only (tests/workflows/planted.py):
the replay must fail as non-deterministic, as it would for that change shipped
without `workflow.patched`. A fixture that never took its path would replay cleanly
and fail this test. A control fixture that does not take the path must replay
cleanly against the same variant, so what fails is the path, not the variant.
"""

from __future__ import annotations

import base64
import json
from typing import NamedTuple

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from tests.workflows import planted
from tests.workflows.histories.record_paths import PATHS
from tests.workflows.test_replay import HISTORIES, events, name_of, of_type, read


class Case(NamedTuple):
    fixture: str
    variant: type
    control: str  # a fixture that does not take the path


CASES = [
    Case("path_rollback", planted.RollBackDoesMore, "delivery_succeeded"),
    Case("path_teardown", planted.TearDownDoesMore, "delivery_succeeded"),
    # Expired before reminders existed (its timeout was shorter than the reminder).
    Case("path_reminder", planted.ReminderDoesMore, "delivery_expired"),
    # Reminded, then approved: the plant is on the expiry, not on the reminder.
    Case("path_expired", planted.ExpiryDoesMore, "path_reminder"),
    Case("path_cancel", planted.CancelDoesMore, "delivery_succeeded"),
    # Failed and cancelled, never retried.
    Case("path_retry", planted.RetryDoesMore, "path_cancel"),
    Case("path_service_run", planted.SecondDeliveryDoesMore, "service_succeeded"),
    Case("path_service_continued", planted.ContinueAsNewDoesMore, "service_succeeded"),
    # The first run of that service: it continued, but was not continued into.
    Case("path_service_after_continue", planted.ContinuedRunDoesMore, "path_service_continued"),
    # The kept outbox rolled over once idle, with nothing queued.
    Case("path_outbox_backlog", planted.BacklogRollOverDoesMore, "slack_outbox"),
    # Rolled over with a backlog small enough to carry: nothing stashed, nothing taken back.
    Case("path_outbox_stashed", planted.StashDoesMore, "path_outbox_backlog"),
    Case("path_outbox_taken_back", planted.TakeBackDoesMore, "path_outbox_backlog"),
]


async def replay(name: str, variant: type):
    (path,) = [p for p in HISTORIES if name_of(p) == name]
    replayer = Replayer(workflows=[variant], data_converter=pydantic_data_converter)
    history = WorkflowHistory.from_json(name, read(path))
    return await replayer.replay_workflow(history, raise_on_replay_failure=False)


def test_every_path_has_its_fixture_and_its_planted_change():
    recorded = {name_of(p) for p in HISTORIES}
    assert set(PATHS) <= recorded
    assert [c.fixture for c in CASES] == list(PATHS)


@pytest.mark.parametrize("case", CASES, ids=[c.fixture for c in CASES])
async def test_a_change_planted_on_the_path_fails_its_replay(case):
    result = await replay(case.fixture, case.variant)
    assert isinstance(result.replay_failure, NondeterminismError), result.replay_failure


@pytest.mark.parametrize("case", CASES, ids=[c.fixture for c in CASES])
async def test_the_planted_change_leaves_other_paths_alone(case):
    result = await replay(case.control, case.variant)
    assert result.replay_failure is None, result.replay_failure


def payload(payloads: dict) -> dict:
    return json.loads(base64.b64decode(payloads["payloads"][0]["data"]))


def test_the_fixtures_hold_what_their_paths_are_about():
    """What a reader of each history would check first, besides the planted changes."""

    def scheduled(name: str) -> list[str]:
        return [a["activityType"]["name"] for a in of_type(events(name), "ACTIVITY_TASK_SCHEDULED")]

    def final(name: str) -> dict:
        (done,) = of_type(events(name), "WORKFLOW_EXECUTION_COMPLETED")
        return payload(done["result"])

    rollback = final("path_rollback")
    assert rollback["operation"] == "roll back" and rollback["deployments"][0]["version"] == 1
    assert "tear_down_service" in scheduled("path_teardown")
    assert final("path_teardown")["torn_down"] == ["staging"]
    for name, ended in (("path_reminder", "approved"), ("path_expired", "expired")):
        (gate,) = final(name)["gates"]
        assert gate["reminded"] and gate["state"] == ended
    assert final("path_cancel")["state"] == "cancelled"
    assert scheduled("path_retry").count("build_service_image") == 2
    assert final("path_retry")["state"] == "succeeded"
    children = of_type(events("path_service_run"), "START_CHILD_WORKFLOW_EXECUTION_INITIATED")
    assert len(children) == 4
    for name, runs in (("path_service_continued", 1), ("path_service_after_continue", 2)):
        (rolled,) = of_type(events(name), "WORKFLOW_EXECUTION_CONTINUED_AS_NEW")
        assert payload(rolled["input"])["continued"] == runs
    (rolled,) = of_type(events("path_outbox_backlog"), "WORKFLOW_EXECUTION_CONTINUED_AS_NEW")
    assert len(payload(rolled["input"])["queue"]) > 5  # a backlog, carried along
    assert "stash_backlog" in scheduled("path_outbox_stashed")
    (rolled,) = of_type(events("path_outbox_stashed"), "WORKFLOW_EXECUTION_CONTINUED_AS_NEW")
    assert payload(rolled["input"])["stashed"]  # only the parts' keys, and what came after
    taken_back = scheduled("path_outbox_taken_back")
    assert "fetch_backlog" in taken_back and "forget_backlog" in taken_back
