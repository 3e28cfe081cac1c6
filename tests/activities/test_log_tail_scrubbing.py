"""A failed stage's log tail reaches the Slack thread and the Temporal history: no secret
may ride along (issue #29 item 7).

The scrubber is checked over a table of planted secrets and of lines that must survive;
then a real failing build, a real failing local deploy of a generated service (on the
Docker engine and PostgreSQL) and an ECS rollback (moto, its CloudWatch lines) show the
failure that comes back from the activity has every planted secret redacted.
"""

from __future__ import annotations

import io
import json
import uuid

import docker
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.deploy_targets.ecs_resources import secret_name
from activities.deploy_targets.local import LocalDocker
from activities.deploy_targets.naming import database_identifier, secrets_file
from activities.log_scrub import MARK, scrub, scrub_tail
from activities.service_secrets import new_service_secrets, secret_values
from activities.stages import DeliveryActivities
from shipmate.settings import EnvironmentPolicy
from tests.activities import test_ecs_rollout_failures as rollout
from tests.activities.test_ecs_deploy import aws, deploy, ecs_name, verify
from workflows.spec import Database, EntitySpec, FieldSpec, ServiceSpec
from workflows.stage_models import DeployInput, ScaffoldInput, ScaffoldResult, TeardownInput

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiIsImV4cCI6MTcwMDAwMDAwMH0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
own_aws = rollout.own_aws  # moto in this process, to play ECS's scheduler
PEM_BODY = "MIIEowIBAAKCAQEA7bq3mZl0vXK9pN4QfJ8sK2d5cT1oY6wR3eU7iO0pA9sD4fG"

# (a log line with a secret planted in it, the secret, what must still be there)
PLANTED = [
    (
        "connecting to postgresql://notes_t1a2b3:Vq3x9Lw2Zp8Kd7Rt@127.0.0.1:5432/notes",
        "Vq3x9Lw2Zp8Kd7Rt",
        "postgresql://notes_t1a2b3:[redacted]@127.0.0.1:5432/notes",
    ),
    (
        "engine: mysql+pymysql://app:p%40ss%2Fw0rd@db.internal:3306/shop?charset=utf8mb4",
        "p%40ss%2Fw0rd",
        "mysql+pymysql://app:[redacted]@db.internal:3306/shop",
    ),
    (
        "pip index https://deploy:hunter2hunter2@pypi.internal/simple",
        "hunter2hunter2",
        "https://deploy:[redacted]@pypi.internal/simple",
    ),
    (
        "GET /notes Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "Authorization: Bearer [redacted]",
    ),
    ('{"headers": {"authorization": "Basic YWRtaW46czNjcjN0"}}', "YWRtaW46czNjcjN0", "Basic"),
    ("curl -H 'bearer Zk9sYmFyLXRva2VuLTEyMzQ1Njc4'", "Zk9sYmFyLXRva2VuLTEyMzQ1Njc4", "bearer"),
    (f"issued token {JWT} for admin", JWT, "issued token [redacted] for admin"),
    ("aws_access_key_id=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "aws_access_key_id="),
    ("using session key ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A", "using session key"),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_access_key = [redacted]",
    ),
    ("AWS_SECRET_ACCESS_KEY: Zx81kLm0Qa", "Zx81kLm0Qa", "AWS_SECRET_ACCESS_KEY: [redacted]"),
    ("retrying with password=Tr0ub4dor&3 now", "Tr0ub4dor&3", "password=[redacted] now"),
    ("settings: {'db_password': 'correct horse'}", "correct horse", "'db_password': '[redacted]'"),
    ('{"level": "INFO", "secret": "s3kr1t-v4lue"}', "s3kr1t-v4lue", '"secret": "[redacted]"'),
    ("GET /callback?token=abc123def&next=/home", "abc123def", "token=[redacted]&next=/home"),
    ("OPENAI_API_KEY=sk-live-0123456789abcdef", "0123456789abcdef", "OPENAI_API_KEY="),
    ("config api_key: k-9a8b7c6d5e", "k-9a8b7c6d5e", "api_key: [redacted]"),
    ("JWT_SECRET=a-very-long-signing-key-here", "a-very-long-signing-key", "JWT_SECRET="),
    (
        f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n{PEM_BODY[::-1]}\n"
        "-----END RSA PRIVATE KEY-----\nserver started",
        PEM_BODY,
        "server started",
    ),
    (f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}", PEM_BODY, "[redacted]"),  # cut off by the tail
    (f"{PEM_BODY}\n-----END EC PRIVATE KEY-----\nready", PEM_BODY, "ready"),  # begun inside it
    (
        "slack said invalid_auth for xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp",
        "1234567890-0987654321-AbCdEfGhIjKlMnOp",
        "slack said invalid_auth for [redacted]",
    ),
    ("app token xapp-1-A0123456-7890-abcdef0123", "A0123456-7890-abcdef0123", "app token"),
    (
        "openai: sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56 rejected",
        "Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56",
        "openai: [redacted] rejected",
    ),
    ("key sk-Ab12Cd34Ef56Gh78Ij90Kl12Mn34", "Ab12Cd34Ef56Gh78Ij90Kl12Mn34", "key [redacted]"),
]

# Lines that hold no secret and must come out exactly as they went in.
UNTOUCHED = [
    "see the password reset page for help",
    "Password and token handling moved to app/auth.py",
    "the secret is kept in Secrets Manager",
    "Step 3/9 : RUN --mount=type=secret,id=pip pip install -r requirements.txt",
    " ---> Using cache",
    " ---> 4f2a9c1e7b3d",
    "Successfully built 4f2a9c1e7b3d",
    "writing image sha256:9b2f6f7e1c0d4a3b8e5f2a1c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f",
    "#7 [runtime 2/6] FROM docker.io/library/python@sha256:e3b0c44298fc1c149afbf4c8996fb924",
    "INFO:     Uvicorn running on http://127.0.0.1:8201 (Press CTRL+C to quit)",
    "see https://docs.example.com:8443/setup?x=1 and postgresql://127.0.0.1:5432/notes",
    "sqlite:////data/notes.db",
    "git@github.com:acme/orders-api.git",
    "postgresql://shipmate:***@10.0.1.5/orders (the driver's own mask)",
    "KeyError: 'JWT_SECRET'",
    "JWT_SECRET must be set to a real secret (16+ characters)",
    "DATABASE_URL must be set outside development",
    "tests/test_auth.py::test_expired_token_is_refused PASSED  [ 40%]",
    "FAILED tests/test_auth.py::test_wrong_password - assert 401 == 200",
    "5 passed, 1 failed in 3.2s",
    "task-runner-0123456789abcdefghij started",  # not an OpenAI key: `sk-` inside a word
    "AKIA is how access key ids begin",
    "the bearer of this message",
    '{"level": "INFO", "message": "token refreshed", "request_id": "req-42"}',
]


@pytest.mark.parametrize(("line", "secret", "kept"), PLANTED, ids=lambda v: str(v)[:24])
def test_every_secret_shape_is_redacted_and_its_context_kept(line, secret, kept):
    scrubbed = scrub(line)
    assert secret not in scrubbed, scrubbed
    assert MARK in scrubbed and kept in scrubbed, scrubbed
    assert scrub(scrubbed) == scrubbed  # scrubbed twice (driver, then stage): the same


@pytest.mark.parametrize("line", UNTOUCHED)
def test_lines_without_secrets_are_left_alone(line):
    assert scrub(line) == line


def test_the_services_own_secret_values_are_redacted_wherever_they_appear():
    made = {**new_service_secrets(), "DATABASE_PASSWORD": "pW-9x_Kq2LmZ4rT8vB1n"}
    known = secret_values(made)
    assert "admin" not in known  # the admin's user name is no secret
    assert {made["JWT_SECRET"], made["FIRST_ADMIN_PASSWORD"], made["DATABASE_PASSWORD"]} <= set(
        known
    )
    lines = [
        f"signing with {made['JWT_SECRET']}",
        f"first admin {made['FIRST_ADMIN_USERNAME']} / {made['FIRST_ADMIN_PASSWORD']}",
        f"db pass {made['DATABASE_PASSWORD']}, encoded pW-9x_Kq2LmZ4rT8vB1n",
        "admin signed in",
    ]
    scrubbed = scrub_tail(lines, known)
    assert isinstance(scrubbed, list) and len(scrubbed) == len(lines)
    for value in known:
        assert value not in "\n".join(scrubbed)
    assert scrubbed[1].startswith("first admin admin / [redacted]")
    assert scrubbed[3] == "admin signed in"
    assert scrub("the word admin stays", ["admin"]) == "the word admin stays"  # too short


def test_a_tail_keeps_its_type():
    assert scrub_tail("password=x1\nok") == "password=[redacted]\nok"
    assert scrub_tail(["token: abc", "ok"]) == ["token: [redacted]", "ok"]
    assert scrub_tail([]) == [] and scrub_tail("") == "" and scrub_tail(None) is None


# Through the activities, as a person sees the failure.


def ungated(settings):
    """Staging without a gate: the deploy itself is under test, not who approved it."""
    policies = {**settings.approval_policies, "staging": EnvironmentPolicy(gate=False)}
    return settings.model_copy(update={"approval_policies": policies})


def test_a_failing_build_comes_back_without_the_secrets_it_printed(
    settings, docker_ready, tmp_path
):
    """A Dockerfile step that echoes credentials and fails: the BuildFailed message (it
    quotes the failed command) and its log tail."""
    (tmp_path / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE} AS runtime\n"
        "RUN echo 'pip index https://deploy:hunter2hunter2@pypi.internal/simple' "
        "&& echo 'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' "
        "&& echo 'key AKIAIOSFODNN7EXAMPLE' && false\n"
    )
    scaffold = ScaffoldResult(
        service="leaky-build", version=1, path=str(tmp_path), files=1, fingerprint="0" * 16
    )
    stages = DeliveryActivities(settings.model_copy(update={"use_wheelhouse": False}))
    with pytest.raises(ApplicationError) as failed:
        ActivityEnvironment().run(stages.build_service_image, scaffold)
    assert failed.value.type == "BuildFailed"
    (tail,) = failed.value.details
    said = failed.value.message + "\n" + tail
    assert "https://deploy:[redacted]@pypi.internal/simple" in tail
    for secret in ("hunter2hunter2", "wJalrXUtnFEMI", "AKIAIOSFODNN7EXAMPLE"):
        assert secret not in said, said


@pytest.fixture(scope="module")
def leaky_image(settings, docker_ready, tmp_path_factory):
    """A generated service whose start prints its DATABASE_URL and its secrets, then
    fails before it is ever ready."""
    stages = DeliveryActivities(
        settings.model_copy(update={"state_dir": tmp_path_factory.mktemp("leaky")})
    )
    spec = ServiceSpec(
        name="leaky-api",
        entities=[EntitySpec(name="Note", fields=[FieldSpec(name="title", required=True)])],
    )
    run = ActivityEnvironment().run
    scaffold = run(stages.scaffold_service, ScaffoldInput(spec=spec, request_text=""))
    built = run(stages.build_service_image, scaffold).image
    startup = (
        'echo "connecting to $DATABASE_URL"; '
        'echo "jwt signing key: $JWT_SECRET"; '
        'echo "creating first admin $FIRST_ADMIN_USERNAME with $FIRST_ADMIN_PASSWORD"; '
        "echo 'sqlalchemy.exc.OperationalError: could not migrate' >&2; exit 3"
    )
    dockerfile = f"FROM {built}\nCMD {json.dumps(['sh', '-c', startup])}\n"
    leaky = "leaky-api:prints-its-secrets"
    docker.from_env().images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=leaky, rm=True)
    return leaky


def test_a_failed_local_deploy_shows_its_log_tail_without_the_services_secrets(
    settings, leaky_image
):
    service = f"leaky-{uuid.uuid4().hex[:5]}"
    request = DeployInput(
        service=service,
        environment="staging",
        image=leaky_image,
        database=Database.postgresql,
        version=1,
    )
    try:
        with pytest.raises(ApplicationError) as failed:
            ActivityEnvironment().run(DeliveryActivities(ungated(settings)).deploy_service, request)
        kept = json.loads(secrets_file(settings, service, "staging").read_text())
    finally:
        LocalDocker().tear_down(
            settings, TeardownInput(service=service, environment="staging"), print
        )
    assert failed.value.type == "DeployRefused"
    assert failed.value.message.startswith("rolled back: v1 never became ready")
    (tail,) = failed.value.details
    shown = "\n".join(tail)
    assert "could not migrate" in shown  # the tail still says what went wrong
    role = database_identifier(settings, service, "staging")
    assert f"connecting to postgresql://{role}:[redacted]@" in shown, shown
    assert "creating first admin admin with [redacted]" in shown, shown
    for key in ("DATABASE_PASSWORD", "JWT_SECRET", "FIRST_ADMIN_PASSWORD"):
        assert kept[key] not in shown + failed.value.message, (key, shown)


def test_an_ecs_rollback_shows_its_cloudwatch_lines_without_the_services_secrets(own_aws):
    settings, backend = ungated(own_aws[0]), own_aws[1]
    service = f"leaky-{uuid.uuid4().hex[:6]}"
    v1 = deploy(settings, service, f"{settings.registry}/{service}:v1", version=1)
    v2 = deploy(settings, service, f"{settings.registry}/{service}:v2", version=2)
    stored = aws(settings, "secretsmanager").get_secret_value(
        SecretId=secret_name(settings, service, "staging")
    )
    made = json.loads(stored["SecretString"])
    rollout.circuit_breaker_rolls_back(
        backend, ecs_name(settings, service), v2.task_definition, v1.task_definition, False
    )
    printed = [
        "connecting to postgresql://shipmate:RdsManaged-Pw0rd-1234@db.internal:5432/leaky",
        f"jwt signing key: {made['JWT_SECRET']}",
        f"first admin {made['FIRST_ADMIN_USERNAME']} with {made['FIRST_ADMIN_PASSWORD']}",
        "ERROR:    Application startup failed. Exiting.",
    ]
    rollout.task_logs(settings, service, printed, seconds_ago=5)

    with pytest.raises(ApplicationError) as raised:
        verify(settings, v2)

    (tail,) = raised.value.details
    assert tail == [
        "connecting to postgresql://shipmate:[redacted]@db.internal:5432/leaky",
        "jwt signing key: [redacted]",
        "first admin admin with [redacted]",
        "ERROR:    Application startup failed. Exiting.",
    ]
