"""The review's workflow logic on the real Temporal server, with scripted stages: the
stages run in order, a failed fetch ends the review with its reason, a review never
hands on fixes by itself, and only the requester or a developer may apply them, once.

The real stages (Docker, the analyzer, Slack) are tested in tests/end_to_end/test_review.py.
"""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from testkit.fake_stages import on_every_queue
from testkit.waiting import eventually
from workflows import activity_contracts as contracts
from workflows.access import AccessPolicy, Origin, PersonAction
from workflows.activity_contracts import implements
from workflows.review_models import (
    Analysis,
    FetchedCode,
    Finding,
    FixesInput,
    ModelReview,
    ModelReviewInput,
    Report,
    ReportInput,
    ReviewRequest,
    ReviewSource,
    ReviewState,
    ReviewStatus,
    Severity,
    SourceKind,
)
from workflows.review_workflow import ReviewWorkflow
from workflows.stage_models import Rules, RulesInput

PATCH = "--- a/app/x.py\n+++ b/app/x.py\n@@ -1 +1 @@\n-a\n+b\n"
FOUND = [
    Finding(
        rule="sql-from-string",
        tool="shipmate",
        severity=Severity.high,
        file="app/x.py",
        line=1,
        message="SQL built from an f-string",
        patch=PATCH,
    ),
    Finding(
        rule="C901", tool="radon", severity=Severity.note, file="app/y.py", line=9, message="x"
    ),
]


class Stages:
    def __init__(self, fail_fetch: str = "", refuse_fixes: int = 0) -> None:
        self.fail_fetch = fail_fetch
        self.refuse_fixes = refuse_fixes
        self.called: list[str] = []
        self.handed_on: list[FixesInput] = []

    def activities(self) -> list:
        stages = self

        @implements(contracts.environment_rules)
        async def environment_rules(request: RulesInput) -> Rules:
            return Rules(policies={}, access=AccessPolicy(developers=["U0ALICE", "U0BOB"]))

        @implements(contracts.fetch_review_code)
        async def fetch_review_code(request: ReviewRequest) -> FetchedCode:
            stages.called.append("fetch")
            if stages.fail_fetch:
                raise ApplicationError(stages.fail_fetch, non_retryable=True)
            return FetchedCode(
                artifact="reviews/x.tar.gz", label="orders-api", files=3, size_bytes=9
            )

        @implements(contracts.analyze_code)
        async def analyze_code(code: FetchedCode) -> Analysis:
            stages.called.append("analyze")
            return Analysis(findings=FOUND, total=2, tools=["ruff"], hot_spots=["app/x.py"])

        @implements(contracts.review_with_model)
        async def review_with_model(request: ModelReviewInput) -> ModelReview:
            stages.called.append("model review")
            return ModelReview(note="static checks only: no OpenAI key is configured")

        @implements(contracts.report_review)
        async def report_review(report: ReportInput) -> Report:
            stages.called.append("report")
            return Report(fixes=[f.patch for f in report.analysis.findings if f.patch])

        @implements(contracts.notify_review)
        async def notify_review(status: ReviewStatus) -> None:
            return None

        @implements(contracts.request_fixes)
        async def request_fixes(fixes: FixesInput) -> str:
            if stages.refuse_fixes:
                stages.refuse_fixes -= 1
                raise ApplicationError(
                    "orders-api already has 5 changes waiting", non_retryable=True
                )
            stages.handed_on.append(fixes)
            return "delivery/orders-api/2"

        return [
            environment_rules,
            fetch_review_code,
            analyze_code,
            review_with_model,
            report_review,
            notify_review,
            request_fixes,
        ]


async def _review(client, stages: Stages, source: ReviewSource, requester: str = "U0CAROL"):
    queue = f"review-{uuid.uuid4().hex[:8]}"
    workers = on_every_queue(client, queue, [ReviewWorkflow], stages.activities())
    request = ReviewRequest(source=source, requester=requester, request_text="review it")
    return workers, queue, request


async def _until_reviewed(handle) -> ReviewStatus:
    async def reviewed():
        status = await handle.query(ReviewWorkflow.status)
        return status if status.state != ReviewState.running else None

    return await eventually(reviewed, what="the review to finish")


async def test_a_review_reads_reports_and_waits_for_a_person_to_apply(client):
    stages = Stages()
    source = ReviewSource(kind=SourceKind.service, service="orders-api")
    workers, queue, request = await _review(client, stages, source, requester="U0ALICE")
    async with workers:
        handle = await client.start_workflow(
            ReviewWorkflow.run, request, id=f"review/{queue}", task_queue=queue
        )
        status = await _until_reviewed(handle)
        assert status.state == ReviewState.succeeded
        assert stages.called == ["fetch", "analyze", "model review", "report"]
        assert [f.where for f in status.findings] == ["app/x.py:1", "app/y.py:9"]
        assert status.counts == {"high": 1, "note": 1}
        assert status.fixes == [PATCH]
        assert "static checks only" in " ".join(status.notes)
        assert stages.handed_on == []  # nothing is applied by itself

        refused = PersonAction(user="U0CAROL", origin=Origin.command)  # not a developer
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await handle.execute_update(ReviewWorkflow.apply, refused)
        assert "may apply its fixes" in str(caught.value.cause)

        await handle.execute_update(
            ReviewWorkflow.apply, PersonAction(user="U0BOB", origin=Origin.command)
        )
        final = await handle.result()
        assert final.apply_delivery == "delivery/orders-api/2"
        assert [f.fixes for f in stages.handed_on] == [[PATCH]]
        assert stages.handed_on[0].requester == "U0BOB"
        assert stages.handed_on[0].service == "orders-api"


async def test_a_refused_fetch_ends_the_review_with_its_reason(client):
    why = "reviews clone only from hosts in SHIPMATE_REVIEW_GIT_HOSTS; evil.example is not one"
    stages = Stages(fail_fetch=why)
    source = ReviewSource(kind=SourceKind.git, url="https://evil.example/x.git")
    workers, queue, request = await _review(client, stages, source, requester="U0ALICE")
    async with workers:
        handle = await client.start_workflow(
            ReviewWorkflow.run, request, id=f"review/{queue}", task_queue=queue
        )
        final = await handle.result()
        assert final.state == ReviewState.failed
        assert final.error == why
        assert [s.state.value for s in final.stages] == ["failed", "pending", "pending", "pending"]
        assert stages.called == ["fetch"]


async def test_only_people_who_may_ask_for_work_get_a_review(client):
    stages = Stages()
    source = ReviewSource(kind=SourceKind.snippet, snippet="x = 1", filename="snippet.py")
    workers, queue, request = await _review(client, stages, source, requester="U0MALLORY")
    async with workers:
        handle = await client.start_workflow(
            ReviewWorkflow.run, request, id=f"review/{queue}", task_queue=queue
        )
        final = await handle.result()
        assert final.state == ReviewState.failed
        assert "may not ask for reviews" in (final.error or "")
        assert stages.called == []  # nothing was fetched for them


async def test_fixes_of_code_outside_shipmate_are_a_patch_file_not_a_change(client):
    stages = Stages()
    source = ReviewSource(kind=SourceKind.snippet, snippet="x = 1", filename="snippet.py")
    workers, queue, request = await _review(client, stages, source, requester="U0ALICE")
    async with workers:
        handle = await client.start_workflow(
            ReviewWorkflow.run, request, id=f"review/{queue}", task_queue=queue
        )
        await _until_reviewed(handle)
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await handle.execute_update(
                ReviewWorkflow.apply, PersonAction(user="U0ALICE", origin=Origin.command)
            )
        assert "git apply" in str(caught.value.cause)
        await handle.terminate("test over")
        assert stages.handed_on == []


async def test_fixes_the_service_refuses_are_said_and_may_be_asked_for_again(client):
    stages = Stages(refuse_fixes=1)
    source = ReviewSource(kind=SourceKind.service, service="orders-api")
    workers, queue, request = await _review(client, stages, source, requester="U0ALICE")
    async with workers:
        handle = await client.start_workflow(
            ReviewWorkflow.run, request, id=f"review/{queue}", task_queue=queue
        )
        await _until_reviewed(handle)
        alice = PersonAction(user="U0ALICE", origin=Origin.command)
        await handle.execute_update(ReviewWorkflow.apply, alice)

        async def refused():
            status = await handle.query(ReviewWorkflow.status)
            return status if status.applied_by is None and status.notes[-1:] else None

        status = await eventually(refused, what="the refusal on the card")
        assert status.notes[-1] == (
            "the fixes could not be handed on: orders-api already has 5 changes waiting"
        )
        await handle.execute_update(ReviewWorkflow.apply, alice)  # asked again, once free
        final = await handle.result()
        assert final.apply_delivery == "delivery/orders-api/2"
        assert len(stages.handed_on) == 1


async def test_once_the_time_to_apply_is_over_a_late_click_is_refused(client):
    stages = Stages()
    source = ReviewSource(kind=SourceKind.service, service="orders-api")
    workers, queue, request = await _review(client, stages, source, requester="U0ALICE")
    request = request.model_copy(update={"apply_days": 2 / 86400})  # two seconds
    async with workers:
        handle = await client.start_workflow(
            ReviewWorkflow.run, request, id=f"review/{queue}", task_queue=queue
        )
        final = await handle.result()
        assert final.apply_closed and final.apply_delivery is None
        with pytest.raises(Exception, match="completed"):  # noqa: B017 - the engine's own words
            await handle.execute_update(
                ReviewWorkflow.apply, PersonAction(user="U0ALICE", origin=Origin.command)
            )
        assert stages.handed_on == []
