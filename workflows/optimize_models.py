"""What an optimization hands between its stages: the load test's figures and what is slow.

An optimization measures a service Shipmate deployed, at its stable address, and says
where the time goes and which change would win it back. Figures travel as these models,
bounded so a workflow history stays small; the chart and the whole report live in the
thread and the artifact store.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from workflows.models import Stage

AGGREGATED = "Aggregated"  # the whole run, as Locust names it
MAX_ENDPOINTS = 30  # rows kept per run; the slowest first
MAX_TIMELINE = 600  # points kept per run (one a second, every endpoint and the total)
MAX_SPOTS = 20


class EndpointStats(BaseModel):
    """One endpoint's figures over the whole run ("GET /todos", "POST /todos", "Aggregated")."""

    name: str = Field(description="Method and path template: 'GET /todos/{id}'")
    requests: int = 0
    failures: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    rps: float = 0.0

    @property
    def error_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


class LoadPoint(BaseModel):
    """One second of the run, for one endpoint or for all of them (AGGREGATED)."""

    endpoint: str = AGGREGATED
    at_s: float = Field(description="Seconds since the run started")
    users: int = 0
    rps: float = 0.0
    failures_per_s: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0


class LoadResult(BaseModel):
    """A load test's outcome, as the report, the chart and a before/after need it."""

    target: str = Field(description="The stable address that was loaded")
    seconds: float = Field(description="How long the load really ran")
    users: int
    endpoints: list[EndpointStats] = Field(default_factory=list)
    total: EndpointStats = Field(default_factory=lambda: EndpointStats(name=AGGREGATED))
    timeline: list[LoadPoint] = Field(default_factory=list)
    stopped_early: str = Field("", description="Why the run stopped before its time, if it did")


class SpotKind(StrEnum):
    missing_index = "missing_index"  # a filtered or sorted column read by a full scan
    n_plus_one = "n_plus_one"  # one query per row of a list
    unbounded_list = "unbounded_list"  # a list endpoint that returns every row
    pool_saturation = "pool_saturation"  # requests wait for a database connection
    cacheable_read = "cacheable_read"  # a hot read whose answer rarely changes
    cpu_bound = "cpu_bound"  # the service's own code is the bottleneck


class SlowSpot(BaseModel):
    """One reason the service is slower than it need be, and the change that would help."""

    kind: SpotKind
    endpoint: str = Field("", description="The endpoint it slows, when known")
    table: str = ""
    columns: list[str] = Field(default_factory=list)
    statement: str = Field("", description="The normalized SQL, at most 500 characters")
    calls: int = 0
    mean_ms: float = 0.0
    evidence: str = Field(description="What was measured, in words: 'Seq Scan on todos …'")
    change: str = Field(description="The change it would make, in words")


class IndexChange(BaseModel):
    """An index a missing_index spot asks for, on a field of the service's spec."""

    entity: str
    field: str
    table: str

    @property
    def words(self) -> str:
        return f"an index on {self.table}({self.field})"


class Findings(BaseModel):
    """What the analysis found, and which of it Apply can change in the service's spec."""

    spots: list[SlowSpot] = Field(default_factory=list)
    indexes: list[IndexChange] = Field(default_factory=list)


class SpeedupInput(BaseModel):
    optimize_id: str
    service: str
    version: int = Field(description="The version measured: the speed-ups are for it")
    indexes: list[IndexChange]
    requester: str
    slack_channel: str | None = None
    slack_thread_ts: str | None = None


class DeliveryOutcome(BaseModel):
    finished: bool
    state: str = ""
    version: int | None = None
    error: str | None = None


class OptimizeState(StrEnum):
    waiting = "waiting"  # for the go-ahead on a production environment
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class OptimizeRequest(BaseModel):
    """'load test orders-api in staging': only names; the address is the worker's to find."""

    optimize_id: str = ""
    service: str
    environment: str | None = Field(None, description="None: where the service is deployed")
    requester: str
    request_text: str = ""
    seconds: int | None = Field(None, description="Asked for; clamped to the settings' maximum")
    users: int | None = Field(None, description="Asked for; clamped to the settings' maximum")
    slack_channel: str | None = None
    slack_thread_ts: str | None = None
    go_ahead_minutes: float = Field(60, description="How long a production run waits for its yes")
    apply_days: float = Field(3, description="How long its speed-ups may be applied")
    poll_seconds: float = Field(60, description="How often Apply's change is looked at")


class LoadTarget(BaseModel):
    """Where the load goes, found from what Shipmate itself deployed, never from a person."""

    service: str
    environment: str
    url: str
    version: int
    database: str = Field(description="postgresql, mysql or sqlite")
    signs_in: bool = Field(True, description="Its API asks for a bearer token")
    seconds: int
    users: int
    seed_seconds: int = Field(0, description="Rows created through the API first, this long")
    production: bool = Field(False, description="Loaded only after a yes; nothing is created")
    said: list[str] = Field(default_factory=list, description="'30 s is the most: clamped'")


class LoadInput(BaseModel):
    target: LoadTarget
    seed: bool = Field(True, description="Create rows through the API before the load")


class Measured(BaseModel):
    """The load stage's outcome: the run, and the rows the seeding made first."""

    load: LoadResult
    seeded: int = 0
    statements_on: bool = Field(False, description="The database kept statement statistics")
    notes: list[str] = Field(default_factory=list)


class AnalyzeInput(BaseModel):
    target: LoadTarget
    measured: Measured


class ReportInput(BaseModel):
    request: OptimizeRequest
    target: LoadTarget
    measured: Measured
    spots: list[SlowSpot] = Field(default_factory=list)
    before: LoadResult | None = Field(None, description="The run before Apply, for the chart")


class OptimizeStatus(BaseModel):
    optimize_id: str
    requester: str
    service: str
    environment: str | None = None
    url: str | None = None
    state: OptimizeState = OptimizeState.running
    stages: list[Stage] = Field(default_factory=list)
    load: LoadResult | None = Field(None, description="Without its timeline once reported")
    seeded: int = 0
    spots: list[SlowSpot] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    error: str | None = None
    go_aheads: list[str] = Field(default_factory=list, description="Who said yes to production")
    indexes: list[IndexChange] = Field(default_factory=list, description="What Apply adds")
    applied_by: str | None = None
    apply_delivery: str | None = Field(None, description="The change delivery Apply asked for")
    apply_closed: bool = Field(False, description="The time to apply is over")
    before: LoadResult | None = Field(None, description="The first run, once measured again")
    slack_channel: str | None = None
    slack_thread_ts: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in (
            OptimizeState.succeeded,
            OptimizeState.failed,
            OptimizeState.cancelled,
        )

    def for_card(self) -> OptimizeStatus:
        """What the card needs: the figures without the per-second timelines."""
        slim = {
            name: run.model_copy(update={"timeline": []})
            for name, run in (("load", self.load), ("before", self.before))
            if run is not None
        }
        return self.model_copy(update=slim)
