"""Which task queue an activity goes to: each kind of work has a queue, and each queue
its own worker slots, so a Slack message never waits behind a 20-minute Docker build
and a long ECS rollout never holds a slot a build needs.

The queues are named after the workflow's own (`shipmate` gives `shipmate-slack`,
`shipmate-docker`, `shipmate-aws`); the workflows and the planning call stay on it.
A running delivery sends its next stage to the new queues once its workers have them;
the queue is not part of what replay compares, so no patch is needed.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.spec import DeployTarget

SLACK, DOCKER, AWS = "slack", "docker", "aws"
KINDS = (SLACK, DOCKER, AWS)
AWS_TARGETS = (DeployTarget.aws_ecs, DeployTarget.aws_lambda)

# The kind of work each activity is, by its name; a deploy-target stage goes where its
# target's calls go.
KIND_OF = {
    "scaffold_service": DOCKER,
    "test_service": DOCKER,
    "build_service_image": DOCKER,
    "push_service_image": DOCKER,
    "deploy_service": DOCKER,
    "verify_service": DOCKER,
    "describe_teardown": DOCKER,
    "tear_down_service": DOCKER,
    "notify": SLACK,
    "send_to_slack": SLACK,
    "stash_backlog": SLACK,  # the outbox's, beside its Slack calls
    "fetch_backlog": SLACK,
    "forget_backlog": SLACK,
    # Reviews: fetching and the sandboxed tools are slow work, the card and uploads are
    # Slack's; the model's reading and handing fixes on stay with the workflows.
    "fetch_review_code": DOCKER,
    "analyze_code": DOCKER,
    "report_review": SLACK,
    "notify_review": SLACK,
    # Optimizations: the load and the database's statistics are read from where the
    # service runs (the deploy's own queue); the chart and card are Slack's.
    "find_load_target": DOCKER,
    "load_service": DOCKER,
    "find_slow_spots": DOCKER,
    "report_load": SLACK,
    "notify_optimize": SLACK,
}


def queue_name(base: str, kind: str | None) -> str:
    return f"{base}-{kind}" if kind else base


def kind_of(activity: str, arg: object = None) -> str | None:
    """None: the workflows' own queue (planning, an OpenAI call, goes there)."""
    kind = KIND_OF.get(activity)
    if kind == DOCKER and getattr(arg, "target", None) in AWS_TARGETS:
        return AWS
    return kind


def queue_for(activity: str, arg: object = None) -> str:
    """Inside a workflow: the queue of the activity about to be scheduled."""
    return queue_name(workflow.info().task_queue, kind_of(activity, arg))
