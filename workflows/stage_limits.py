"""How long a stage's activity may run: always longer than the longest waits inside it.

A stage that passes its start-to-close timeout is cut off and tried again from the
start, so a wait inside it that is longer (an RDS instance being made, an ECS rollout, a
git push) never gets to say its own clear message; it burns retries instead, and the
delivery shows a timeout where the cause was "the database took too long". Each limit
here is the sum of the waits inside its activity plus room for the work between them;
tests/test_stage_limits.py reads the waits from the activities' code and checks it.
"""

from __future__ import annotations

from datetime import timedelta

from workflows.spec import DeployTarget

# Rendering, ruff (fix and format), local git, the team's remote (fetch, push), the store.
SCAFFOLD = timedelta(minutes=10)
# ECS: the rollout reaching steady state, then /ready through the balancer.
VERIFY = timedelta(minutes=25)
# ECS: each resource waited for until nothing uses it, then the database deleted.
TEAR_DOWN = timedelta(minutes=40)
# A deploy takes the request's build timeout, and at least this on each target: on ECS
# a deploy waits for its RDS instance to be available (made: 5 to 15 minutes, 30 at
# most), and a roll back runs the migration down as a one-off task (15 at most).
DEPLOY_AT_LEAST = {
    DeployTarget.local: timedelta(minutes=5),
    DeployTarget.aws_ecs: timedelta(minutes=55),
}
