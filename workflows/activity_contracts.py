"""The activities the workflows call: each one's name and signature, written once.

Workflows call these by reference (`workflow.execute_activity(contracts.deploy_service,
…)`), so an activity's name and its input and result types live here and nowhere else.
Nothing here runs: the worker registers implementations under the same names with
`@implements(contract)`, and test fakes do the same. This module imports no docker,
boto3 or network client, so the workflow sandbox stays clean.

The names are in recorded histories: renaming a function here would strand every
delivery parked at a gate, so they stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from temporalio import activity

from workflows import optimize_models as optimize
from workflows.outbox_messages import Backlog, SlackCall, SlackSent
from workflows.review_models import (
    Analysis,
    FetchedCode,
    FixesInput,
    ModelReview,
    ModelReviewInput,
    Report,
    ReportInput,
    ReviewRequest,
    ReviewStatus,
)
from workflows.spec import ServiceSpec
from workflows.stage_models import (
    BuiltImage,
    DeployInput,
    DeployResult,
    NotifyInput,
    NotifyResult,
    PlanInput,
    Rules,
    RulesInput,
    ScaffoldInput,
    ScaffoldResult,
    TeardownInput,
    TestReport,
)

Implementation = TypeVar("Implementation", bound=Callable)


@activity.defn
def environment_rules(request: RulesInput) -> Rules:
    """The gates' rules and who may ask, from the worker's settings (activities/worker_rules)."""
    raise NotImplementedError


@activity.defn
def plan_service(request: PlanInput) -> ServiceSpec:
    """Understand a request that arrived without a spec (see README, 'Where things live')."""
    raise NotImplementedError


@activity.defn
def scaffold_service(request: ScaffoldInput) -> ScaffoldResult:
    """Write the service's repository and commit the version."""
    raise NotImplementedError


@activity.defn
def test_service(scaffold: ScaffoldResult) -> TestReport:
    """Run the generated tests in a locked-down container."""
    raise NotImplementedError


@activity.defn
def build_service_image(scaffold: ScaffoldResult) -> BuiltImage:
    """Build the runtime image."""
    raise NotImplementedError


@activity.defn
def push_service_image(built: BuiltImage) -> str:
    """Push the image; the result is the pushed reference (by digest where known)."""
    raise NotImplementedError


@activity.defn
def deploy_service(request: DeployInput) -> DeployResult:
    """Deploy one environment through the target the spec names."""
    raise NotImplementedError


@activity.defn
def verify_service(deployed: DeployResult) -> None:
    """Wait until the deployed version answers (or its rollout completes)."""
    raise NotImplementedError


@activity.defn
def describe_teardown(request: TeardownInput) -> str:
    """Name what tear-down would delete (the database above all), for the approvers."""
    raise NotImplementedError


@activity.defn
def tear_down_service(request: TeardownInput) -> str:
    """Delete what this installation made for one service and environment; says what."""
    raise NotImplementedError


@activity.defn
def notify(update: NotifyInput) -> NotifyResult:
    """Post or edit the delivery's status card and reply about moments in its thread."""
    raise NotImplementedError


@activity.defn
def send_to_slack(call: SlackCall) -> SlackSent:
    """Post, edit or whisper one outbox message; a 429 is retried after Retry-After."""
    raise NotImplementedError


@activity.defn
def stash_backlog(backlog: Backlog) -> str:
    """Keep an outbox's backlog in the artifact store, sealed like payloads; its key."""
    raise NotImplementedError


@activity.defn
def fetch_backlog(key: str) -> Backlog:
    """The backlog an outbox stashed before it continued as new."""
    raise NotImplementedError


@activity.defn
def forget_backlog(keys: list[str]) -> None:
    """Delete the stashed parts an outbox has taken back (their text is Slack's)."""
    raise NotImplementedError


@activity.defn
def fetch_review_code(request: ReviewRequest) -> FetchedCode:
    """Bring the code to review into the artifact store: a service's version, an allowed
    git URL, a Slack file or a pasted snippet, within the size and time limits."""
    raise NotImplementedError


@activity.defn
def analyze_code(code: FetchedCode) -> Analysis:
    """The ecosystem's own tools and Shipmate's structural checks, in the sandbox."""
    raise NotImplementedError


@activity.defn
def review_with_model(request: ModelReviewInput) -> ModelReview:
    """The model's reading of the hot spots, each finding checked (OpenAI, when set)."""
    raise NotImplementedError


@activity.defn
def report_review(report: ReportInput) -> Report:
    """Upload the report (Markdown, SARIF, fixes, pictures) to the thread; the fixes that
    apply together, in order, and the architecture notes when asked for."""
    raise NotImplementedError


@activity.defn
def notify_review(status: ReviewStatus) -> None:
    """Post or edit the review's card in its thread, through the outbox."""
    raise NotImplementedError


@activity.defn
def request_fixes(fixes: FixesInput) -> str:
    """Ask the reviewed service for a change delivery carrying the fixes; its id."""
    raise NotImplementedError


REVIEW_STAGES = (
    fetch_review_code,
    analyze_code,
    review_with_model,
    report_review,
    notify_review,
    request_fixes,
)


@activity.defn
def find_load_target(request: optimize.OptimizeRequest) -> optimize.LoadTarget:
    """Where a load test may go: the stable address Shipmate deployed the service to in
    that environment, read from its own records, with duration and users clamped."""
    raise NotImplementedError


@activity.defn
def load_service(request: optimize.LoadInput) -> optimize.Measured:
    """Seed rows through the service's API, then load it (Locust) and keep the figures;
    the database's statement statistics are reset first, so they cover this run."""
    raise NotImplementedError


@activity.defn
def find_slow_spots(request: optimize.AnalyzeInput) -> optimize.Findings:
    """What the database's own statistics and plans say is slow, what would help, and which
    of it is a change of the service's spec (an index on a field)."""
    raise NotImplementedError


@activity.defn
def report_load(report: optimize.ReportInput) -> str:
    """Upload the load test's chart to the thread; the file's id."""
    raise NotImplementedError


@activity.defn
def notify_optimize(status: optimize.OptimizeStatus) -> None:
    """Post or edit the optimization's card in its thread, through the outbox."""
    raise NotImplementedError


@activity.defn
def request_speedup(request: optimize.SpeedupInput) -> str:
    """Ask the service for a change delivery adding the indexes; its id."""
    raise NotImplementedError


@activity.defn
def delivery_outcome(delivery_id: str) -> optimize.DeliveryOutcome:
    """Where a delivery stands: finished or not, and how it ended."""
    raise NotImplementedError


OPTIMIZE_STAGES = (
    find_load_target,
    load_service,
    find_slow_spots,
    report_load,
    notify_optimize,
    request_speedup,
    delivery_outcome,
)

DELIVERY_STAGES = (
    plan_service,
    scaffold_service,
    test_service,
    build_service_image,
    push_service_image,
    deploy_service,
    verify_service,
    describe_teardown,
    tear_down_service,
)
ALL = (
    *DELIVERY_STAGES,
    *REVIEW_STAGES,
    *OPTIMIZE_STAGES,
    environment_rules,
    notify,
    send_to_slack,
    stash_backlog,
    fetch_backlog,
    forget_backlog,
)


def implements(contract: Callable) -> Callable[[Implementation], Implementation]:
    """Register a function or method as the implementation of a declared activity."""
    return activity.defn(name=contract.__name__)
