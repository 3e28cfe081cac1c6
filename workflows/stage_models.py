"""What the stages (activities) take and give: one model in and one out per contract
(workflows.activity_contracts), so a stage's signature is its types."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from workflows.access import AccessPolicy, ApprovalPolicy
from workflows.models import DeliveryStatus
from workflows.spec import Database, DeployTarget, ServiceSpec


class RulesInput(BaseModel):
    environments: list[str]


class Rules(BaseModel):
    """The worker's rules for a delivery: each environment's gate, and who may do what."""

    policies: dict[str, ApprovalPolicy]
    access: AccessPolicy


class PlanInput(BaseModel):
    request_text: str
    requester: str = "cli"
    base_spec: ServiceSpec | None = None


class ScaffoldInput(BaseModel):
    """The spec to generate, the repository it is written on top of, and who asked for
    what, for the repository's commit message."""

    spec: ServiceSpec
    request_text: str = ""
    requester: str = ""
    earlier_repository: str | None = Field(
        None,
        description="The running version's repository (artifact key), whose specs/ holds "
        "every earlier version: their migrations are kept and the new one follows them",
    )
    fixes: list[str] = Field(
        default_factory=list, description="A review's fixes to apply after generating"
    )


class ScaffoldResult(BaseModel):
    service: str
    version: int
    path: str
    files: int
    fingerprint: str = Field(description="Hash of the generated files; names the image tag")
    artifact: str | None = Field(
        None, description="The repository in the artifact store, for stages on any worker"
    )
    notes: list[str] = Field(
        default_factory=list, description="Earlier review fixes that no longer apply"
    )


class TestReport(BaseModel):
    passed: int
    failed: int
    duration_seconds: float
    output_tail: str = ""

    def summary(self) -> str:
        return f"{self.passed} passed, {self.failed} failed in {self.duration_seconds:.1f}s"


class BuiltImage(BaseModel):
    image: str
    image_id: str
    artifact: str | None = Field(
        None, description="What it was built from: a worker without the image builds it again"
    )


class DeployInput(BaseModel):
    service: str
    environment: str
    image: str = Field(description="The image as built on the worker's Docker engine")
    target: DeployTarget = DeployTarget.local
    pushed_image: str | None = Field(None, description="The image in the registry")
    publishes_events: bool = Field(False, description="The service sends changes to SQS")
    event_sinks: list[str] = Field(
        default_factory=list, description="Where its events go: sqs, rabbitmq, nats"
    )
    consumes: list[str] = Field(
        default_factory=list, description="The services whose events it consumes"
    )
    consumer_sinks: list[str] = Field(
        default_factory=list, description="The brokers it consumes from: rabbitmq, nats"
    )
    database: Database = Field(Database.postgresql, description="The spec's database")
    oidc: bool = Field(False, description="It signs people in through an OpenID Connect issuer")
    version: int = Field(0, description="The version being deployed")
    migrate_down_with: str | None = Field(
        None, description="Roll back: the live image, whose migrations take the database down"
    )
    requester: str | None = Field(None, description="Who asked for the delivery")
    approved_by: list[str] = Field(
        default_factory=list, description="Who approved this environment's gate"
    )


class TeardownInput(BaseModel):
    service: str
    environment: str
    target: DeployTarget = DeployTarget.local
    database: Database = Database.postgresql
    event_sinks: list[str] = Field(default_factory=list, description="Where it publishes")
    consumer_queues: list[str] = Field(
        default_factory=list, description="<sink>:<queue suffix> of each of its consumers"
    )


class DeployResult(BaseModel):
    environment: str
    url: str
    container: str = Field(description="The container (local) or the ECS service's name")
    target: DeployTarget = DeployTarget.local
    task_definition: str | None = Field(None, description="ECS task definition ARN")
    service: str = Field("", description="The service deployed (its logs are found by it)")


class MomentKind(StrEnum):
    gate_open = "gate_open"
    gate_reminder = "gate_reminder"  # the gate expires soon and is still open
    gate_closed = "gate_closed"  # an opened gate was decided, expired or cancelled
    decision = "decision"  # an approval, rejection or retry in the audit trail
    deployed = "deployed"
    failed = "failed"
    ended = "ended"  # rejected, expired or cancelled


class Moment(BaseModel):
    """Something in a delivery worth a reply in its thread (see workflows.moments)."""

    model_config = ConfigDict(frozen=True)

    kind: MomentKind
    environment: str = ""
    number: int = 0  # the audit entry, or which failure (a retry may fail again)


class NotifyInput(BaseModel):
    status: DeliveryStatus
    channel: str | None = None
    thread_ts: str | None = None
    card_ts: str | None = Field(None, description="The card to edit; None posts it")
    announce: list[Moment] = Field(default_factory=list, description="Moments to reply about")


class NotifyResult(BaseModel):
    card_ts: str | None = None
