"""The review's stages as Temporal activities, bound to the worker's settings.

fetch brings the code into the artifact store (so any worker runs the next stage),
analyze runs the tools in the sandbox, the model stage reads the hot spots, report
uploads the whole report to the thread and works out which fixes apply together, and
request_fixes hands them to the reviewed service. A person's mistake (an unknown
service, a host not allowed, a file too large) is a non-retryable error whose message
the card shows as it is.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import artifacts
from activities.log_scrub import scrub
from activities.review import fixes_together, report_files, sources
from activities.review.analysis import AnalysisFailed, run_analyzer
from activities.review.by_design import open_as_asked
from activities.review.card_messages import send_card
from activities.review.model_review import review_with_model as read_with_model
from activities.review.sarif import findings_from_sarif, hot_spots
from activities.review.secret_guard import bounded, guarded, secrets_found
from activities.slack_files import FileRefused, upload_to_thread
from shipmate import delivery_client
from shipmate.settings import Settings
from shipmate.temporal import TemporalUnavailable
from slack_views.text import escape
from workflows import activity_contracts as contracts
from workflows.activity_contracts import implements
from workflows.review_models import (
    MAX_FINDINGS_KEPT,
    Analysis,
    FetchedCode,
    FixesInput,
    Focus,
    ModelReview,
    ModelReviewInput,
    Report,
    ReportInput,
    ReviewRequest,
    ReviewStatus,
)

log = logging.getLogger(__name__)
MODEL_FILE_CHARS = 60_000  # per file sent to the model; the model stage trims further


class ReviewActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    def all(self) -> list:
        return [getattr(self, contract.__name__) for contract in contracts.REVIEW_STAGES]

    @implements(contracts.fetch_review_code)
    async def fetch_review_code(self, request: ReviewRequest) -> FetchedCode:
        try:
            return await sources.fetch(self.settings, request, activity.client())
        except (sources.SourceRefused, FileRefused) as exc:
            raise ApplicationError(str(exc), type="SourceRefused", non_retryable=True) from None

    @implements(contracts.analyze_code)
    def analyze_code(self, code: FetchedCode) -> Analysis:
        with unpacked(self.settings, code.artifact) as root:
            try:
                sarif = run_analyzer(
                    self.settings, root, activity.heartbeat, activity.info().workflow_id
                )
            except AnalysisFailed as exc:
                raise ApplicationError(
                    str(exc), type="AnalysisFailed", non_retryable=not exc.again
                ) from None
            findings, ran, failed = findings_from_sarif(sarif)
            if not any(root.rglob("*.py")):  # say so, rather than a clean bill of health
                failed.append("Python only: none of these files is Python, so nothing was checked")
            found = secrets_found(findings, root)
            findings = bounded(guarded(findings, found))
        if code.open_by_design:
            findings = open_as_asked(findings, code.label.split(" ")[0])
        report = scrub(json.dumps(sarif), found[0])
        return Analysis(
            findings=findings[:MAX_FINDINGS_KEPT],  # the SARIF file has them all
            total=len(findings),
            tools=ran,
            tools_failed=failed,
            hot_spots=hot_spots(findings),
            sarif=sources.store_text(self.settings, "reviews", report, ".sarif"),
        )

    @implements(contracts.review_with_model)
    def review_with_model(self, request: ModelReviewInput) -> ModelReview:
        if self.settings.openai_api_key is None:  # nothing to fetch for a model never asked
            return read_with_model(self.settings, {}, [], request.focus, request.request_text)
        static = request.analysis.findings
        with unpacked(self.settings, request.code.artifact) as root:
            files = {}
            for name in request.analysis.hot_spots:
                path = root / name
                if path.is_file():
                    files[name] = path.read_text(errors="replace")[:MODEL_FILE_CHARS]
            read = read_with_model(
                self.settings, files, static, request.focus, request.request_text
            )
            # a fix of a secret's line carries the secret: guarded like the static ones
            secrets = secrets_found([*read.findings, *static], root)
        return read.model_copy(update={"findings": bounded(guarded(read.findings, secrets))})

    @implements(contracts.report_review)
    def report_review(self, report: ReportInput) -> Report:
        findings = [*report.analysis.findings, *report.model.findings]
        with unpacked(self.settings, report.code.artifact) as root:
            together = fixes_together.apply_together(root, [f.patch for f in findings if f.patch])
        request, label = report.request, report.code.label
        sarif = (
            sources.load_text(self.settings, report.analysis.sarif) if report.analysis.sarif else ""
        )
        notes, pictures, summary = "", [], ""
        if request.focus == Focus.architecture and sarif:
            notes, pictures, summary = report_files.architecture_notes(json.loads(sarif))
        if request.slack_channel:
            review = activity.info().workflow_id  # a second review's files are its own
            files = report_files.uploads(
                findings, label, sarif, together, notes, pictures, review=review
            )
            try:
                upload_to_thread(
                    self.settings,
                    request.slack_channel,
                    request.slack_thread_ts,
                    files,
                    f"The whole review of {escape(label)}: the report, its SARIF and the fixes.",
                )
            except FileRefused as exc:  # Slack said no: the card still has the findings
                log.warning("the review's files were not uploaded: %s", exc)
        return Report(fixes=together, architecture=summary)

    @implements(contracts.notify_review)
    async def notify_review(self, status: ReviewStatus) -> None:
        await send_card(self.settings, activity.client(), status)

    @implements(contracts.request_fixes)
    async def request_fixes(self, fixes: FixesInput) -> str:
        client = activity.client()
        spec = await delivery_client.current_spec(client, fixes.service)
        if spec is None:
            raise ApplicationError(
                f"there is no service called {fixes.service} any more", non_retryable=True
            )
        if fixes.version is not None and spec.version != fixes.version:
            raise ApplicationError(
                f"these fixes were made for v{fixes.version} of {fixes.service}, which is at "
                f"v{spec.version} now: ask for a review of it again",
                non_retryable=True,
            )
        listed = "; ".join(f"{f.where} {f.rule}" for f in fixes.findings[:10])
        text = f"apply the fixes of review {fixes.review_id}: {listed}"[:500]
        try:
            ticket = await delivery_client.request_change(
                client,
                self.settings,
                text,
                spec,
                fixes.requester,
                channel=fixes.slack_channel,
                thread_ts=fixes.slack_thread_ts,
                request_key=f"fixes/{fixes.review_id}",
                new_service=False,
                fixes=fixes.fixes,
            )
        except delivery_client.DecisionRefused as exc:
            raise ApplicationError(str(exc), type="Refused", non_retryable=True) from None
        except TemporalUnavailable as exc:
            raise ApplicationError(str(exc), type="EngineUnavailable") from None
        return ticket.delivery_id


@contextmanager
def unpacked(settings: Settings, key: str) -> Iterator[Path]:
    """The stored code in a temporary folder of this worker's, removed afterwards."""
    data = artifacts.fetch(settings, key)
    folder = Path(tempfile.mkdtemp(prefix="shipmate-review-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            tar.extractall(folder, filter="data")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
