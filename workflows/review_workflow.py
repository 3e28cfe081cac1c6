"""ReviewWorkflow: read code, say what is wrong with it, and hand the fixes on when asked.

Reviewer mode. Four stages (fetch, analyze, model review, report), each an activity, and
one card in the thread kept current. A review never builds or deploys anything by
itself: its `apply` update, from the card's button or an explicit "apply the fixes" by
the requester or a developer, asks the reviewed service for a change delivery that
carries the fixes through tests and gates like any change. Code from anywhere else gets
its fixes as a patch file in the thread. The review stays open for `apply_days`, then
ends; its result is its status.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows import activity_contracts as contracts
    from workflows import search
    from workflows.access import AccessPolicy, Origin, PersonAction
    from workflows.coalesced import Coalesced
    from workflows.failures import cause
    from workflows.models import Stage, StageState
    from workflows.queues import queue_for
    from workflows.review_models import (
        CARD_TOP,
        SEVERITY_ORDER,
        Analysis,
        FetchedCode,
        FixesInput,
        ModelReview,
        ModelReviewInput,
        Report,
        ReportInput,
        ReviewRequest,
        ReviewState,
        ReviewStatus,
        SourceKind,
    )
    from workflows.stage_models import RulesInput

STAGES = ("fetch", "analyze", "model review", "report")
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=3,
)
CARD_POSTED = "card_posted"  # the outbox tells the review where its card is


class ReviewFailed(Exception):
    """Internal: a stage failed; the card says which and why."""


class CardUpdates(Coalesced):
    """The review's card, kept current: one edit in flight, always the newest status."""

    def __init__(self) -> None:
        self.card_ts: str | None = None


@workflow.defn(name=search.REVIEW_TYPE)
class ReviewWorkflow:
    @workflow.init
    def __init__(self, request: ReviewRequest) -> None:
        self._request = request
        self._status = ReviewStatus(
            review_id=workflow.info().workflow_id,
            requester=request.requester,
            source=request.source,
            stages=[Stage(name=name) for name in STAGES],
            slack_channel=request.slack_channel,
            slack_thread_ts=request.slack_thread_ts,
        )
        self._card = CardUpdates()
        self._access: AccessPolicy | None = None
        self._version: int | None = None  # the service's version reviewed
        self._fixes_asked: PersonAction | None = None

    @workflow.query
    def status(self) -> ReviewStatus:
        return self._status

    @workflow.signal(name=CARD_POSTED)
    def card_posted(self, card_ts: str) -> None:
        self._card.card_ts = card_ts

    @workflow.update
    def apply(self, person: PersonAction) -> ReviewStatus:
        """Asked for the fixes: the run loop hands them on (an activity may not run here)."""
        self._fixes_asked = person
        self._status.applied_by = person.user
        self._changed()
        return self._status

    @apply.validator
    def _validate_apply(self, person: PersonAction) -> None:
        status = self._status
        if status.state != ReviewState.succeeded:
            raise ValueError(f"this review is {status.state}: there is nothing to apply yet")
        if status.source.kind != SourceKind.service:
            raise ValueError(
                "the fixes for code outside Shipmate are in the patch file in this thread: "
                "apply it with `git apply`"
            )
        if not status.fixes:
            raise ValueError("this review found nothing with a fix that applies")
        if status.applied_by is not None:
            raise ValueError(f"<@{status.applied_by}> already asked for these fixes")
        if status.apply_closed:
            raise ValueError("the time to apply this review's fixes is over: ask for a new review")
        if person.origin == Origin.card and person.message_ts != self._card.card_ts:
            raise ValueError("that button is on an older copy of the review's card")
        allowed = person.user == status.requester or (
            self._access is not None and self._access.may_request(person.user)
        )
        if not allowed:
            raise ValueError(
                f"only <@{status.requester}>, who asked for the review, or a developer "
                "(SHIPMATE_DEVELOPERS) may apply its fixes"
            )

    @workflow.run
    async def run(self, request: ReviewRequest) -> ReviewStatus:
        workflow.upsert_search_attributes(search.review_attributes(request))
        keeping_card = asyncio.create_task(self._card._keep_sending(self._send_card))
        try:
            await self._review(request)
            self._status.state = ReviewState.succeeded
        except ReviewFailed:
            self._status.state = ReviewState.failed
        self._changed()
        if self._status.state == ReviewState.succeeded and self._status.fixes:
            await self._wait_for_apply(request)
        await self._card.flush()
        keeping_card.cancel()
        return self._status

    async def _review(self, request: ReviewRequest) -> None:
        try:  # who may ask, and apply, is the worker's word, not the bot's
            rules = await self._activity(
                contracts.environment_rules, RulesInput(environments=[]), seconds=60
            )
        except ActivityError as err:
            self._status.error = f"the rules of who may ask could not be read: {cause(err)}"
            raise ReviewFailed from None
        self._access = rules.access
        if not rules.access.may_request(request.requester):
            self._status.error = (
                f"<@{request.requester}> may not ask for reviews; an admin can add you to "
                "SHIPMATE_DEVELOPERS"
            )
            raise ReviewFailed
        code: FetchedCode = await self._stage(
            "fetch", contracts.fetch_review_code, request, minutes=5
        )
        self._stages("fetch").detail = f"{code.files} files of {code.label}"
        self._version = code.base_spec_version
        analysis: Analysis = await self._stage(
            "analyze", contracts.analyze_code, code, minutes=10, heartbeat=timedelta(minutes=2)
        )
        self._status.findings = analysis.findings
        model_input = ModelReviewInput(
            code=code, analysis=analysis, focus=request.focus, request_text=request.request_text
        )
        model: ModelReview = await self._stage(
            "model review", contracts.review_with_model, model_input, minutes=5
        )
        findings = sorted(
            [*analysis.findings, *model.findings],
            key=lambda f: (SEVERITY_ORDER[f.severity], f.file, f.line),
        )
        self._status.findings = findings
        self._status.counts = _counts(findings)
        notes = [model.note] if model.note else []
        notes += analysis.tools_failed  # "mypy: timed out after 180 s"
        if analysis.total > len(analysis.findings):
            notes.append(
                f"the card and review.md hold the first {len(analysis.findings)} of "
                f"{analysis.total} findings; review.sarif holds them all"
            )
        self._status.notes = notes
        report = ReportInput(request=request, code=code, analysis=analysis, model=model)
        reported: Report = await self._stage("report", contracts.report_review, report, minutes=5)
        self._status.fixes, self._status.architecture = reported.fixes, reported.architecture

    async def _wait_for_apply(self, request: ReviewRequest) -> None:
        """Open for apply_days; a request for the fixes becomes the service's change.
        One the service refuses (or that cannot reach it) is said on the card, and the
        fixes may be asked for again."""
        ends = workflow.now() + timedelta(days=request.apply_days)
        while self._status.apply_delivery is None:
            try:
                await workflow.wait_condition(
                    lambda: self._fixes_asked is not None, timeout=ends - workflow.now()
                )
            except TimeoutError:
                self._status.apply_closed = True  # the button goes; a late click is refused
                self._changed()
                return
            person = self._fixes_asked
            assert person is not None
            try:
                self._status.apply_delivery = await self._activity(
                    contracts.request_fixes, self._fixes_for(request, person), seconds=60
                )
            except ActivityError as err:
                self._status.notes.append(f"the fixes could not be handed on: {cause(err)}")
                self._status.applied_by, self._fixes_asked = None, None
            self._changed()

    def _fixes_for(self, request: ReviewRequest, person: PersonAction) -> FixesInput:
        status = self._status
        return FixesInput(
            review_id=status.review_id,
            service=request.source.service or "",
            version=self._version,
            fixes=status.fixes,
            findings=[f for f in status.findings if f.patch and f.patch in status.fixes],
            requester=person.user,
            slack_channel=request.slack_channel,
            slack_thread_ts=request.slack_thread_ts,
        )

    async def _stage(
        self, name: str, activity, arg, *, minutes: float, heartbeat: timedelta | None = None
    ):
        stage = self._stages(name)
        stage.state, stage.started_at = StageState.running, workflow.now()
        self._changed()
        try:
            result = await self._activity(activity, arg, seconds=minutes * 60, heartbeat=heartbeat)
        except ActivityError as err:
            stage.state, stage.finished_at = StageState.failed, workflow.now()
            stage.detail = self._status.error = cause(err)
            raise ReviewFailed from None
        stage.state, stage.finished_at = StageState.succeeded, workflow.now()
        self._changed()
        return result

    async def _activity(self, activity, arg, *, seconds: float, heartbeat=None):
        """`heartbeat`: only for a stage that reports its progress (the analyzer)."""
        return await workflow.execute_activity(
            activity,
            arg,
            task_queue=queue_for(activity.__name__, arg),
            start_to_close_timeout=timedelta(seconds=seconds),
            heartbeat_timeout=heartbeat,
            retry_policy=RETRY,
        )

    async def _send_card(self) -> None:
        try:
            await workflow.execute_activity(
                contracts.notify_review,
                self._status.for_card(CARD_TOP),
                task_queue=queue_for("notify_review"),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
        except ActivityError:
            workflow.logger.warning("the review card could not be sent; the next change retries")

    def _stages(self, name: str) -> Stage:
        return next(stage for stage in self._status.stages if stage.name == name)

    def _changed(self) -> None:
        if self._status.slack_channel:
            self._card.changed()


def _counts(findings) -> dict[str, int]:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.severity.value] = counts.get(finding.severity.value, 0) + 1
    return counts
