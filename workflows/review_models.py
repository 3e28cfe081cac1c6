"""What a review hands between its stages: the code to read, the findings, the report.

A review reads code and says what is wrong with it, where, why it matters and how to fix
it; it never builds or deploys anything by itself. Findings travel as SARIF between the
analyzer and the worker (the format GitHub code scanning and editors read), and as the
`Finding` model inside the workflow, capped so a history stays small: the whole report
lives in the artifact store.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from workflows.models import Stage

MAX_FINDINGS_KEPT = 100  # in the workflow's history; the SARIF file has them all
CARD_TOP = 5  # findings the card shows first
MAX_PATCH_CHARS = 3000  # one finding's fix; a longer one is left to the SARIF file


class Severity(StrEnum):
    high = "high"  # exploitable, loses data, or breaks under load: fix before shipping
    medium = "medium"
    low = "low"
    note = "note"  # style, complexity: worth knowing


SEVERITY_ORDER = {Severity.high: 0, Severity.medium: 1, Severity.low: 2, Severity.note: 3}


class Finding(BaseModel):
    """One thing wrong, at one place."""

    rule: str = Field(description="The tool's rule id: 'S608', 'B105', 'sql-from-string'")
    tool: str = Field(description="ruff, bandit, mypy, radon, shipmate, model")
    severity: Severity
    file: str = Field(description="Path relative to the code's root, with forward slashes")
    line: int = Field(ge=1)
    message: str = Field(description="What is wrong, in one sentence")
    why: str = Field("", description="Why it matters")
    patch: str = Field("", description="The fix as a unified diff that `git apply` takes")

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def key(self) -> tuple[str, str, int]:
        """Two tools reporting the same rule family at one line count once."""
        return (self.file, self.rule, self.line)


class SourceKind(StrEnum):
    service = "service"  # a Shipmate service's own repository, any version
    git = "git"  # a repository URL, from an allowed host
    slack_file = "slack_file"  # a file uploaded to the thread
    snippet = "snippet"  # code pasted in the message


class ReviewSource(BaseModel):
    kind: SourceKind
    service: str | None = None
    version: int | None = Field(None, description="None: the running version")
    url: str | None = None
    file_id: str | None = None
    snippet: str | None = Field(None, description="Pasted code, at most 200 KB")
    filename: str | None = Field(None, description="What to call a pasted snippet")

    def label(self) -> str:
        """How the card names what it reviews."""
        if self.kind == SourceKind.service:
            return f"{self.service}" + (f" v{self.version}" if self.version else "")
        if self.kind == SourceKind.git:
            return self.url or "a repository"
        if self.kind == SourceKind.slack_file:
            return self.filename or "the uploaded file"
        return self.filename or "the pasted code"


class Focus(StrEnum):
    """What the person asked to look at; every review runs every check, this orders them."""

    everything = "everything"
    security = "security"
    performance = "performance"
    architecture = "architecture"


class ReviewRequest(BaseModel):
    review_id: str = ""
    source: ReviewSource
    requester: str
    request_text: str = ""
    focus: Focus = Focus.everything
    slack_channel: str | None = None
    slack_thread_ts: str | None = None
    apply_days: float = Field(3, description="How long its fixes may be asked for")


class FetchedCode(BaseModel):
    """The code to review, packed into the artifact store."""

    artifact: str
    label: str
    files: int
    size_bytes: int
    skipped: list[str] = Field(default_factory=list, description="Binary or too large")
    base_spec_version: int | None = Field(None, description="A service's version reviewed")
    open_by_design: bool = Field(
        False, description="A Shipmate service whose spec asks for no sign-in"
    )


class Analysis(BaseModel):
    findings: list[Finding] = Field(default_factory=list)
    total: int = Field(0, description="All findings, before the cap")
    tools: list[str] = Field(default_factory=list, description="Tools that ran")
    tools_failed: list[str] = Field(default_factory=list, description="'mypy: timed out'")
    hot_spots: list[str] = Field(default_factory=list, description="Files to read closely")
    sarif: str | None = Field(None, description="The SARIF file's artifact key")


class ModelReviewInput(BaseModel):
    code: FetchedCode
    analysis: Analysis
    focus: Focus = Focus.everything
    request_text: str = ""


class ModelReview(BaseModel):
    findings: list[Finding] = Field(default_factory=list)
    dropped: int = Field(0, description="Model findings that failed the checks")
    used_model: bool = False
    note: str = Field("", description="'static checks only: no OpenAI key configured'")


class ReportInput(BaseModel):
    request: ReviewRequest
    code: FetchedCode
    analysis: Analysis
    model: ModelReview


class Report(BaseModel):
    fixes: list[str] = Field(default_factory=list, description="Patches that apply together")
    architecture: str = Field("", description="Proposed boundaries, when asked about them")


class ReviewState(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class ReviewStatus(BaseModel):
    review_id: str
    requester: str
    source: ReviewSource
    state: ReviewState = ReviewState.running
    stages: list[Stage] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict, description="severity -> count")
    notes: list[str] = Field(default_factory=list)
    error: str | None = None
    fixes: list[str] = Field(
        default_factory=list, description="Patches that apply together, in order"
    )
    architecture: str = Field("", description="Proposed service boundaries, when asked")
    applied_by: str | None = Field(None, description="Who asked for the fixes")
    apply_closed: bool = Field(False, description="The time to ask for the fixes is over")
    apply_delivery: str | None = Field(None, description="The change delivery of the fixes")
    slack_channel: str | None = None
    slack_thread_ts: str | None = None

    @property
    def finished(self) -> bool:
        return self.state != ReviewState.running

    def for_card(self, top: int) -> ReviewStatus:
        """What the card shows: the top findings and those Apply would fix, without the
        pasted code; every card edit is an activity input, kept in the history."""
        fixing = [f for f in self.findings[top:] if f.patch and f.patch in self.fixes]
        return self.model_copy(
            update={
                "findings": self.findings[:top] + fixing[:10],
                "source": self.source.model_copy(update={"snippet": None}),
            }
        )


class FixesInput(BaseModel):
    """A review's fixes, handed to the reviewed service as a change delivery."""

    review_id: str
    service: str
    version: int | None = Field(None, description="The version reviewed: the fixes fit it")
    fixes: list[str]
    findings: list[Finding] = Field(default_factory=list, description="What they fix")
    requester: str
    slack_channel: str | None = None
    slack_thread_ts: str | None = None
