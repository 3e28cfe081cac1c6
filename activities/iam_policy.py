"""The worker's IAM policy for this installation: deploy/iam-worker-policy.json, filled in.

The file names every resource after the installation (`<installation>`), the configured
ECS cluster pattern (`<cluster>`, SHIPMATE_ECS_CLUSTER with `*` for the environment) and
the task roles the worker may pass to ECS (`<execution-role-arn>`, `<task-role-arn>`).
`python -m activities.iam_policy` prints it for the settings of the environment it runs
in; attach what it prints to the worker's role. Unfilled, the file allows next to
nothing: its placeholders match no resource.
"""

from __future__ import annotations

import json
from pathlib import Path

from activities.deploy_targets.naming import installation_id
from shipmate.settings import Settings, load_settings

TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "iam-worker-policy.json"
ROLE_PLACEHOLDERS = ("<execution-role-arn>", "<task-role-arn>")


def worker_policy(settings: Settings) -> dict:
    """The policy for this installation; PassRole names exactly the configured roles (the
    statement goes when none is configured)."""
    text = TEMPLATE.read_text()
    text = text.replace("<installation>", installation_id(settings))
    text = text.replace("<cluster>", settings.ecs_cluster.format(environment="*"))
    policy = json.loads(text)
    roles = [arn for arn in (settings.ecs_execution_role_arn, settings.ecs_task_role_arn) if arn]
    statements = []
    for statement in policy["Statement"]:
        listed = statement["Resource"]
        listed = [listed] if isinstance(listed, str) else listed
        if any(r in ROLE_PLACEHOLDERS for r in listed):
            if not roles:
                continue
            statement = {**statement, "Resource": sorted(set(roles))}
        statements.append(statement)
    policy["Statement"] = statements
    left = [
        p for p in ("<installation>", "<cluster>", *ROLE_PLACEHOLDERS) if p in json.dumps(policy)
    ]
    if left:
        raise ValueError(f"{TEMPLATE.name} still names {', '.join(left)}")
    return policy


if __name__ == "__main__":
    configured = load_settings()
    if not configured.installation:  # a made-up id would match none of the workers' names
        raise SystemExit("set SHIPMATE_INSTALLATION to the workers' installation id first")
    print(json.dumps(worker_policy(configured), indent=2))
