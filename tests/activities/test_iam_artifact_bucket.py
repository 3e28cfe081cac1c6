"""The worker's IAM policy lets workers share stages through a `shipmate-artifacts-*` bucket.

With `SHIPMATE_ARTIFACT_STORE=s3://…`, one worker writes the scaffolded repository and
another reads it; on real AWS a call the policy does not allow fails only there. Here
the store runs against moto, every S3 call it makes is recorded with the object it
names, and each is looked up in deploy/iam-worker-policy.json as IAM would: the action
and the object's ARN must both match one Allow statement.
"""

from __future__ import annotations

import fnmatch
import json
import uuid
from pathlib import Path

import boto3

from activities import artifacts

POLICY = Path(__file__).resolve().parents[2] / "deploy" / "iam-worker-policy.json"


def _listed(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allowed(action: str, resource: str) -> bool:
    """Whether one Allow statement without a condition grants `action` on `resource`."""
    return any(
        statement["Effect"] == "Allow"
        and "Condition" not in statement
        and any(fnmatch.fnmatchcase(action, a) for a in _listed(statement["Action"]))
        and any(fnmatch.fnmatchcase(resource, r) for r in _listed(statement["Resource"]))
        for statement in json.loads(POLICY.read_text())["Statement"]
    )


def _repository(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "main.py").write_text("print('stage output')\n")
    return root


def _bucket(settings, name: str) -> None:
    boto3.client(
        "s3", endpoint_url=settings.aws_endpoint_url, region_name=settings.aws_region
    ).create_bucket(Bucket=name)


def test_a_stage_handed_between_workers_makes_only_calls_the_policy_allows(settings, tmp_path):
    bucket = f"shipmate-artifacts-{uuid.uuid4().hex[:8]}"
    _bucket(settings, bucket)
    store = f"s3://{bucket}/stages"
    writer = settings.model_copy(update={"state_dir": tmp_path / "a", "artifact_store": store})
    reader = settings.model_copy(update={"state_dir": tmp_path / "b", "artifact_store": store})

    boto3.setup_default_session()
    calls: set[tuple[str, str]] = set()

    def record(model, params, **_):
        arn = f"arn:aws:s3:::{params['Bucket']}/{params['Key']}"
        calls.add((f"s3:{model.name}", arn))

    boto3.DEFAULT_SESSION.events.register("before-parameter-build.s3.*", record)
    try:
        key = artifacts.save(writer, "todo", _repository(tmp_path / "a" / "todo"))
        copy = artifacts.checkout(reader, key, lambda path: None)
    finally:
        boto3.DEFAULT_SESSION.events.unregister("before-parameter-build.s3.*", record)

    assert (copy / "app" / "main.py").read_text() == "print('stage output')\n"
    assert {action for action, _ in calls} == {"s3:PutObject", "s3:GetObject"}
    assert all(arn.startswith(f"arn:aws:s3:::{bucket}/stages/todo/") for _, arn in calls)
    refused = sorted(call for call in calls if not allowed(*call))
    assert refused == []


def test_the_policy_reaches_no_other_bucket():
    """Scoped to buckets named shipmate-artifacts-*, and to their objects."""
    for action in ("s3:GetObject", "s3:PutObject"):
        assert allowed(action, "arn:aws:s3:::shipmate-artifacts-prod1/stages/a.tar.gz")
        assert not allowed(action, "arn:aws:s3:::customer-data/stages/a.tar.gz")
        assert not allowed(action, "arn:aws:s3:::shipmate-artifact/stages/a.tar.gz")
    assert not allowed("s3:DeleteObject", "arn:aws:s3:::shipmate-artifacts-prod1/a.tar.gz")
