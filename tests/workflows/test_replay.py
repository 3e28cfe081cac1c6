"""Recorded histories must replay against today's workflow code.

A change that would break workflows already running (non-determinism) fails here.
Two kinds of fixture (tests/workflows/histories/record.py records both):

- `delivery_<scenario>` and `service_<scenario>`: re-record them only for a deliberate,
  versioned change: `python -m tests.workflows.histories.record`.
- Kept fixtures, recorded from the production path and never re-recorded: `parked_*`
  (a delivery waiting at its prod gate), `production_*` (a spec given, staging and
  prod, both gates approved from the card through the real bot, the real notify
  activity and Slack outbox, the service entity through continue-as-new) and
  `slack_outbox*` (a channel's outbox across its continue-as-new). They stand for runs
  in flight when a new Shipmate is deployed: a workflow change must keep replaying
  them, behind `workflow.patched`, not by recording them again. `path_*` are kept too:
  one per path (roll back, tear down, a fired reminder, an expiry, a cancel, a retry,
  a service run with several deliveries, a service and an outbox continued as new);
  test_replay_paths.py shows that each went down its path.

Fixtures whose path a retired patch took away are not replayed: they move to a dated
folder under histories/archive/ (its README says how), and the kept fixture is recorded
once more from the code that retired it.
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.delivery_workflow import DeliveryWorkflow
from workflows.outbox_workflow import SlackOutbox
from workflows.service_workflow import ServiceWorkflow

HERE = Path(__file__).parent / "histories"
# A history past a few thousand events is kept gzipped (the outbox's is 5,000 long).
HISTORIES = sorted([*HERE.glob("*.json"), *HERE.glob("*.json.gz")])
KEPT = {
    "parked_delivery",
    "parked_service",
    "production_delivery",
    "production_service",
    "production_service_continued",
    "slack_outbox",
    "slack_outbox_continued",
}


def name_of(path: Path) -> str:
    return path.name.split(".")[0]


def read(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode()


def events(name: str) -> list[dict]:
    (path,) = [p for p in HISTORIES if name_of(p) == name]
    return json.loads(read(path))["events"]


def of_type(history: list[dict], kind: str) -> list[dict]:
    """The events of one type (`ACTIVITY_TASK_SCHEDULED`), each its attributes."""
    wanted = f"EVENT_TYPE_{kind}"
    return [
        next(v for k, v in e.items() if k.endswith("Attributes"))
        for e in history
        if e["eventType"] == wanted
    ]


def arguments(payloads: dict) -> list:
    return [json.loads(base64.b64decode(p["data"])) for p in payloads.get("payloads", [])]


def test_every_scenario_is_recorded():
    names = {name_of(path) for path in HISTORIES}
    for scenario in ("succeeded", "retried", "cancelled", "expired"):
        assert {f"delivery_{scenario}", f"service_{scenario}"} <= names
    # Recorded once and never again (see the module docstring): a delivery parked at its
    # prod gate, a delivery through both gates from Slack, the service entity and the
    # channel's outbox each across a continue-as-new.
    assert KEPT <= names


def test_the_production_delivery_went_through_both_gates_from_the_card():
    history = events("production_delivery")
    approvals = [
        (
            update["acceptedRequest"]["input"]["name"],
            *arguments(update["acceptedRequest"]["input"]["args"]),
        )
        for update in of_type(history, "WORKFLOW_EXECUTION_UPDATE_ACCEPTED")
    ]
    assert [(name, a["environment"], a["origin"]) for name, a in approvals] == [
        ("approve", "staging", "card"),
        ("approve", "prod", "card"),
    ]
    activities = [a["activityType"]["name"] for a in of_type(history, "ACTIVITY_TASK_SCHEDULED")]
    assert activities.count("notify") > 5 and activities.count("deploy_service") == 2
    assert [s["signalName"] for s in of_type(history, "WORKFLOW_EXECUTION_SIGNALED")] == [
        "card_posted"
    ]
    assert history[-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"


def scheduled_together(history: list[dict]) -> list[set[str]]:
    """What each workflow task started: its stages' activities (without notify), and
    `signal` when it signalled the service entity."""
    batches, batch = [], set()
    for event in history:
        if event["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED":
            batch.add(event["activityTaskScheduledEventAttributes"]["activityType"]["name"])
        elif event["eventType"] == "EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED":
            batch.add("signal")
        elif event["eventType"] == "EVENT_TYPE_WORKFLOW_TASK_COMPLETED" and batch:
            batches.append(batch - {"notify"})
            batch = set()
    return batches + ([batch - {"notify"}] if batch else [])


ARCHIVE = HERE / "archive"
ARCHIVED = sorted(ARCHIVE.glob("*/*.json*"))


def archived(name: str) -> list[dict]:
    (path,) = [p for p in ARCHIVED if name_of(p) == name]
    return json.loads(read(path))["events"]


def side_by_side(history: list[dict]) -> bool:
    """Test and build started in one workflow task (since `test-beside-build`)."""
    return any(
        {"test_service", "build_service_image"} <= started
        for started in scheduled_together(history)
    )


def stage_beside_signal(history: list[dict]) -> bool:
    """A stage started in the task that signals the service (since it is told in the
    background; before, each signal was awaited first)."""
    return any("signal" in started and len(started) > 1 for started in scheduled_together(history))


def test_retired_paths_are_archived_and_every_replayed_delivery_takes_the_new_ones():
    """The retired markers' old paths (test, build and push in sequence; each signal to
    the service awaited) live only in the archive, and the deliveries replayed today
    took the new ones, so a path the code no longer has is never asked to replay."""
    for name in ("production_delivery", "parked_delivery"):
        old = archived(name)
        assert not side_by_side(old) and not stage_beside_signal(old)
        assert any("signal" in started for started in scheduled_together(old))
    for name in ("production_delivery", "delivery_succeeded"):
        assert side_by_side(events(name)) and stage_beside_signal(events(name))
    assert stage_beside_signal(events("parked_delivery"))  # parked before its build


@pytest.mark.parametrize("path", ARCHIVED, ids=[name_of(p) for p in ARCHIVED])
async def test_an_archived_history_no_longer_replays(path):
    """Each archived history is there because a retired path stranded it; one that
    still replays belongs back with the replayed ones."""
    result = await Replayer(
        workflows=[ServiceWorkflow, DeliveryWorkflow, SlackOutbox],
        data_converter=pydantic_data_converter,
    ).replay_workflow(
        WorkflowHistory.from_json(name_of(path), read(path)), raise_on_replay_failure=False
    )
    assert isinstance(result.replay_failure, workflow.NondeterminismError), result.replay_failure


@pytest.mark.parametrize(
    "name", ["production_service", "production_service_continued", "slack_outbox"]
)
def test_the_long_lived_ones_continued_as_new(name):
    assert events(name)[-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW"


@pytest.mark.parametrize("name", ["production_service_continued", "slack_outbox_continued"])
def test_a_continued_run_is_recorded_too(name):
    (started,) = of_type(events(name)[:1], "WORKFLOW_EXECUTION_STARTED")
    assert started["initiator"] == "CONTINUE_AS_NEW_INITIATOR_WORKFLOW"


@pytest.mark.parametrize("path", HISTORIES, ids=[name_of(p) for p in HISTORIES])
async def test_history_replays_without_nondeterminism(path):
    replayer = Replayer(
        workflows=[ServiceWorkflow, DeliveryWorkflow, SlackOutbox],
        data_converter=pydantic_data_converter,
    )
    history = WorkflowHistory.from_json(name_of(path), read(path))
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
