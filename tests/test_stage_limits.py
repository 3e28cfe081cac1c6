"""Every stage's activity outlasts the waits inside it, read from the code.

A stage cut off by its start-to-close timeout is tried again from the start: an inner
wait that is longer never says its own message ("the database is still creating after
30 min") and burns the stage's retries instead. The waits are the activities' own
constants, so lengthening one without its stage's limit fails here, naming both.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType

from activities.deploy_targets import ecs_database, ecs_rollout, ecs_teardown
from activities.deploy_targets.ecs_resources import AWS_CALL_LIMIT
from activities.scaffold import generator, repository
from shipmate import delivery_client
from tests.workflows.test_workflows import gate_open, start, until
from workflows import stage_limits
from workflows.models import DeliveryState
from workflows.spec import DeployTarget

ROOM = 60  # seconds for the work between the waits: rendering, writing, a few quick calls
# AWS calls a stage is allowed to spend at their worst (every attempt timing out) beside
# its waits. A stage where more of them do meets an outage, not a wait: it is cut off
# and tried again, which is right.
SLOW_CALLS = 5 * AWS_CALL_LIMIT
GIT = repository.GIT_TIMEOUT

# Each stage: its limit, and the waits that can follow one another inside it (seconds).
STAGES = {
    "scaffold": (
        stage_limits.SCAFFOLD,
        {
            "the earlier version from the artifact store": AWS_CALL_LIMIT,
            "catching up with the team's remote": repository.FETCH_TIMEOUT + GIT + GIT,
            "ruff's fix and format passes": 2 * generator.RUFF_TIMEOUT,
            "the commit (init, add, status, commit, rev-parse)": 5 * GIT,
            "the push to the team's remote": repository.PUSH_TIMEOUT,
            "the repository into the artifact store": AWS_CALL_LIMIT,
        },
    ),
    "deploy on ECS": (
        stage_limits.DEPLOY_AT_LEAST[DeployTarget.aws_ecs],
        {
            "the RDS instance being made": ecs_database.CREATE_TIMEOUT,
            "a roll back's migration down": ecs_rollout.MIGRATION_TIMEOUT,
            "AWS calls at their slowest": SLOW_CALLS,
        },
    ),
    "verify on ECS": (
        stage_limits.VERIFY,
        {
            "the rollout reaching steady state": ecs_rollout.ROLLOUT_TIMEOUT,
            "AWS calls at their slowest": SLOW_CALLS,
        },
    ),
    "tear down on ECS": (
        stage_limits.TEAR_DOWN,
        {
            "the target group draining": ecs_teardown.IN_USE_TIMEOUT,
            "the RDS instance being deleted": ecs_database.DELETE_TIMEOUT,
            "AWS calls at their slowest": SLOW_CALLS,
        },
    ),
}


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_outlasts_the_waits_inside_it(stage):
    limit, waits = STAGES[stage]
    needed = sum(waits.values()) + ROOM
    assert limit.total_seconds() >= needed, (
        f"{stage} may run {limit}, but its waits add up to {timedelta(seconds=needed)}: "
        + ", ".join(f"{what} {seconds} s" for what, seconds in waits.items())
    )


async def test_a_delivery_schedules_each_stage_with_its_limit(client, fake):
    """What the workflow asks Temporal for, read from the delivery's history: an ECS
    deploy gets its target's limit although the build timeout is shorter."""
    _, settings = fake
    handle, _ = await start(client, settings, "build a todo api on ECS")
    await until(handle, gate_open("staging"))
    await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
    final = await until(
        handle, lambda s: s.state in (DeliveryState.succeeded, DeliveryState.failed)
    )
    assert final.state == DeliveryState.succeeded, final.error
    limits = {}
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            limits[scheduled.activity_type.name] = scheduled.start_to_close_timeout.ToTimedelta()
    assert limits["scaffold_service"] == stage_limits.SCAFFOLD
    assert limits["deploy_service"] == stage_limits.DEPLOY_AT_LEAST[DeployTarget.aws_ecs]
    assert limits["deploy_service"] > limits["build_service_image"]  # the build timeout's
    assert limits["verify_service"] == stage_limits.VERIFY
