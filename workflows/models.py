"""What workflows and activities hand each other: the delivery's shared vocabulary."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from workflows.access import (  # noqa: F401  (re-exported: one place to import models from)
    AccessPolicy,
    ApprovalDecision,
    ApprovalPolicy,
    Origin,
    PersonAction,
)
from workflows.environments import is_production
from workflows.spec import ServiceSpec, check_environment


class StageState(StrEnum):
    pending = "pending"
    running = "running"
    waiting = "waiting"
    succeeded = "succeeded"
    failed = "failed"
    skipped = "skipped"
    cancelled = "cancelled"


class DeliveryState(StrEnum):
    running = "running"
    waiting_for_approval = "waiting_for_approval"
    succeeded = "succeeded"
    failed = "failed"
    rejected = "rejected"
    expired = "expired"
    cancelled = "cancelled"


class GateState(StrEnum):
    pending = "pending"  # earlier stages still running
    open = "open"  # waiting for approvals
    approved = "approved"
    rejected = "rejected"
    expired = "expired"
    skipped = "skipped"  # the environment's policy has no gate
    cancelled = "cancelled"  # the delivery was cancelled while the gate was open


class Decision(StrEnum):
    """What a person decided, as the audit trail records it."""

    approved = "approved"
    rejected = "rejected"
    retried = "retried"
    cancelled = "cancelled"


# The signal a delivery sends its service entity on every change.
DELIVERY_CHANGED = "delivery_changed"


FINISHED = frozenset(
    {
        DeliveryState.succeeded,
        DeliveryState.failed,
        DeliveryState.rejected,
        DeliveryState.expired,
        DeliveryState.cancelled,
    }
)


class StageTimeouts(BaseModel):
    """How long stages may take and how soon a silent one counts as lost (heartbeats)."""

    build_minutes: float = 20
    heartbeat_seconds: float = 120
    retry_window_seconds: float = 24 * 3600


class Deployment(BaseModel):
    environment: str
    url: str
    image: str
    version: int
    delivery_id: str = ""
    approved_by: list[str] = Field(default_factory=list)
    requested_by: str = ""
    at: datetime | None = None
    pushed_image: str | None = Field(None, description="The image in the registry")
    rolled_back_from: int | None = Field(None, description="The version a rollback replaced")


class Operation(StrEnum):
    """What a delivery does: build a new version, or undo (roll back, tear down)."""

    build = "build"
    roll_back = "roll back"
    tear_down = "tear down"


class RequestedChange(BaseModel):
    """What a person asked for, under which rules, and where answers go: queued on the
    service as a ChangeRequest, then handed on as its DeliveryRequest."""

    request_text: str
    operation: Operation = Operation.build
    environment: str | None = Field(None, description="Where to roll back or tear down")
    requester: str = "cli"
    spec: ServiceSpec | None = None
    policies: dict[str, ApprovalPolicy] = Field(default_factory=dict)
    access: AccessPolicy = Field(default_factory=AccessPolicy)
    timeouts: StageTimeouts = Field(default_factory=StageTimeouts)
    slack_channel: str | None = None
    slack_thread_ts: str | None = None
    fixes: list[str] = Field(
        default_factory=list,
        description="A review's fixes (unified diffs), applied on top of the generated code "
        "and kept with the service, so later versions carry them too",
    )

    @field_validator("environment")
    @classmethod
    def _one_word(cls, value: str | None) -> str | None:
        return value if value is None else check_environment(value)


class DeliveryRequest(RequestedChange):
    service: str | None = None
    base_spec: ServiceSpec | None = Field(None, description="The running version, for changes")
    version: int = 1
    live: Deployment | None = Field(None, description="Roll back: what serves now")
    rollback_to: Deployment | None = Field(None, description="Roll back: what served before")
    data_loss: list[str] = Field(
        default_factory=list, description="Roll back: what it loses, for the approver to confirm"
    )
    repository: str | None = Field(
        None,
        description="The running version's repository (artifact key): the next is "
        "written on top of it, on whichever worker scaffolds it",
    )


class Stage(BaseModel):
    name: str
    state: StageState = StageState.pending
    started_at: datetime | None = None
    finished_at: datetime | None = None
    detail: str = ""

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class AuditEntry(BaseModel):
    user: str
    environment: str
    decision: Decision
    reason: str = ""
    at: datetime


class GateStatus(BaseModel):
    environment: str
    state: GateState = GateState.pending
    approvals: list[str] = Field(default_factory=list)
    required_approvals: int = 1
    approvers: list[str] = Field(default_factory=list)
    approver_groups: list[str] = Field(default_factory=list)
    expires_at: datetime | None = None  # set when the gate opens
    reminded: bool = False  # the approvers were reminded that it expires soon
    production: bool | None = Field(
        None, description="From the environment's settings; None: older, go by the name"
    )

    @property
    def is_production(self) -> bool:
        """What the Approve button confirms: the settings' word, else the name's."""
        return self.production if self.production is not None else is_production(self.environment)

    def summary(self) -> str:
        return f"{len(self.approvals)} of {self.required_approvals} approvals ({self.state})"


class DeliveryStatus(BaseModel):
    delivery_id: str
    service: str | None = None
    version: int | None = None
    requester: str
    state: DeliveryState = DeliveryState.running
    stages: list[Stage] = Field(default_factory=list)
    gates: list[GateStatus] = Field(default_factory=list)
    audit: list[AuditEntry] = Field(default_factory=list)
    deployments: list[Deployment] = Field(default_factory=list)
    spec: ServiceSpec | None = None
    image: str | None = None
    repository: str | None = Field(
        None, description="The scaffolded repository's key in the artifact store"
    )
    error: str | None = None
    log_tail: str | None = None
    test_summary: str | None = None
    retry_possible: bool = Field(False, description="Failed, and waiting for a retry")
    operation: Operation = Operation.build
    teardown_plan: str = Field("", description="What tear-down deletes, for the approvers")
    data_loss: list[str] = Field(
        default_factory=list, description="What a roll back loses: approved only knowingly"
    )
    torn_down: list[str] = Field(default_factory=list, description="Environments removed")
    slack_channel: str | None = None  # where the delivery's thread is
    slack_thread_ts: str | None = None

    @property
    def in_flight(self) -> bool:
        """Still able to take a cancel (and, when failed, a retry)."""
        return self.state not in FINISHED or self.retry_possible

    @property
    def changing(self) -> bool:
        """A new version (not a roll back or a tear-down): what it loses, it drops."""
        return self.operation == Operation.build

    @property
    def current_stage(self) -> Stage | None:
        """The stage to name: a failed one first (it is what waits for a person), else
        the first one at work; stages may run side by side."""
        for wanted in ((StageState.failed,), (StageState.running, StageState.waiting)):
            for stage in self.stages:
                if stage.state in wanted:
                    return stage
        return None

    @property
    def ending_reason(self) -> str:
        """What the person who rejected or cancelled this delivery wrote, if it ended so."""
        if self.state in (DeliveryState.rejected, DeliveryState.cancelled) and self.audit:
            last = self.audit[-1]
            if last.decision in (Decision.rejected, Decision.cancelled):
                return last.reason or "no reason given"
        return ""

    def stage(self, name: str) -> Stage:
        return next(stage for stage in self.stages if stage.name == name)

    def gate(self, environment: str) -> GateStatus | None:
        return next((g for g in self.gates if g.environment == environment), None)

    def add_environment(
        self, environment: str, policy: ApprovalPolicy, steps=("deploy", "verify")
    ) -> None:
        """An environment's gate, its approve stage and the stages after it."""
        self.stages += [Stage(name=f"{kind} {environment}") for kind in ("approve", *steps)]
        self.gates.append(
            GateStatus(
                environment=environment,
                required_approvals=policy.required_approvals,
                approvers=policy.approvers,
                approver_groups=policy.approver_groups,
                production=policy.production,
            )
        )

    def record(self, person: PersonAction, decision: Decision, at: datetime) -> None:
        """A cancel or retry in the audit trail (gate decisions carry their environment)."""
        self.audit.append(
            AuditEntry(
                user=person.user, environment="-", decision=decision, reason=person.reason, at=at
            )
        )

    def stop_unfinished_stages(self, at: datetime) -> None:
        for stage in self.stages:
            if stage.state in (StageState.running, StageState.waiting):
                stage.state, stage.finished_at = StageState.cancelled, at


# The service entity


class ChangeRequest(RequestedChange):
    """A request to build or change one service, as handed to its ServiceWorkflow."""

    requester: str
    delivery_id: str = Field("", description="Assigned by the service when queued")
    new_service: bool | None = Field(
        None,
        description="True: asked as a new service, refused when one of that name exists "
        "(it would become its next version and drop what it holds); False: a change of "
        "it; None: not said (callers from before)",
    )
    request_key: str | None = Field(None, description="Same key, same delivery (redeliveries)")
    from_delivery: str | None = Field(
        None, description="Roll back from a live message: the delivery whose deploy it announced"
    )


class DeliveryTicket(BaseModel):
    delivery_id: str
    queued_behind: int = Field(0, description="Deliveries ahead of this one")
    asked_before: bool = Field(False, description="Its request_key was seen: an earlier answer")


class DeliveryRecord(BaseModel):
    delivery_id: str
    requester: str
    request_text: str
    state: DeliveryState = DeliveryState.running
    version: int | None = None
    error: str | None = None
    slack_channel: str | None = None
    slack_thread_ts: str | None = None
    audit: list[AuditEntry] = Field(default_factory=list, description="Who decided what")
    repository: str | None = Field(None, description="Its version's repository, once live")


class ServiceState(BaseModel):
    """Everything a ServiceWorkflow remembers; carried across continue-as-new."""

    name: str
    specs: list[ServiceSpec] = Field(default_factory=list)
    repository: str | None = Field(
        None, description="The current spec's repository in the artifact store"
    )
    deliveries: list[DeliveryRecord] = Field(default_factory=list)
    deployments: dict[str, Deployment] = Field(default_factory=dict)
    earlier: dict[str, list[Deployment]] = Field(
        default_factory=dict, description="What served before, newest last, to roll back to"
    )
    queue: list[ChangeRequest] = Field(default_factory=list)
    delivery_count: int = 0
    request_keys: dict[str, str] = Field(default_factory=dict, description="key -> delivery id")
    continued: int = Field(0, description="How many times the history was rolled over")
    history_limit: int = Field(2000, description="Events before continuing as new")

    @property
    def current_spec(self) -> ServiceSpec | None:
        return self.specs[-1] if self.specs else None
