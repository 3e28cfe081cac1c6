"""OptimizeWorkflow: load a service Shipmate deployed, and say where its time goes.

Optimizer mode. Stages: target (the stable address from Shipmate's own records: a
person names a service and an environment, never a URL), load (rows seeded through the
service's API, then a bounded Locust run), analyze (the database's own statistics and
plans) and report (a chart in the thread); one card kept current. A production
environment is a decision: the run waits for the go-ahead of someone who may approve
that environment's deploys, from the card's button.
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
    from workflows.access import AccessPolicy, ApprovalPolicy, Origin, PersonAction
    from workflows.coalesced import Coalesced
    from workflows.environments import is_production
    from workflows.models import Stage, StageState
    from workflows.optimize_models import (
        AnalyzeInput,
        Findings,
        LoadInput,
        LoadResult,
        LoadTarget,
        Measured,
        OptimizeRequest,
        OptimizeState,
        OptimizeStatus,
        ReportInput,
    )
    from workflows.queues import queue_for
    from workflows.stage_models import Rules, RulesInput

# The second half, in the sandbox like this module (passed through, its models would be
# other classes than the ones imported here).
from workflows.failures import cause  # noqa: E402
from workflows.optimize_again import ApplyingSpeedups, OptimizeFailed  # noqa: E402

STAGES = ("target", "load", "analyze", "report")
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=3,
)
ONCE = RetryPolicy(maximum_attempts=1)
CARD_POSTED = "card_posted"  # the outbox tells the optimization where its card is


class CardUpdates(Coalesced):
    """The card, kept current: one edit in flight, always the newest status."""

    def __init__(self) -> None:
        self.card_ts: str | None = None


@workflow.defn(name=search.OPTIMIZE_TYPE)
class OptimizeWorkflow(ApplyingSpeedups):
    @workflow.init
    def __init__(self, request: OptimizeRequest) -> None:
        self._status = OptimizeStatus(
            optimize_id=workflow.info().workflow_id,
            requester=request.requester,
            service=request.service,
            environment=request.environment,
            stages=[Stage(name=name) for name in STAGES],
            slack_channel=request.slack_channel,
            slack_thread_ts=request.slack_thread_ts,
        )
        self._card = CardUpdates()
        self._policy: ApprovalPolicy | None = None
        self._access: AccessPolicy | None = None
        self._apply_asked: PersonAction | None = None

    @workflow.query
    def status(self) -> OptimizeStatus:
        return self._status

    @workflow.signal(name=CARD_POSTED)
    def card_posted(self, card_ts: str) -> None:
        self._card.card_ts = card_ts

    @workflow.update
    def go_ahead(self, person: PersonAction) -> OptimizeStatus:
        """A yes to loading a production environment (as many as its deploys need)."""
        self._status.go_aheads.append(person.user)
        self._changed()
        return self._status

    @go_ahead.validator
    def _validate_go_ahead(self, person: PersonAction) -> None:
        status, policy = self._status, self._policy
        if status.state != OptimizeState.waiting or policy is None:
            raise ValueError(f"this load test is {status.state}: there is nothing to say yes to")
        if person.origin == Origin.card and person.message_ts != self._card.card_ts:
            raise ValueError("that button is on an older copy of the load test's card")
        if not policy.allows(person):
            raise ValueError(
                f"only someone who may approve {status.environment} deploys may load it"
            )
        if person.user == status.requester and not policy.requester_may_approve:
            raise ValueError(
                f"you asked for this load test: someone else who may approve "
                f"{status.environment} deploys says yes"
            )
        if person.user in status.go_aheads:
            raise ValueError("you said yes already")

    @workflow.update
    def apply(self, person: PersonAction) -> OptimizeStatus:
        """Asked for the speed-ups: the run loop hands them on (an activity may not run here)."""
        self._apply_asked = person
        self._status.applied_by = person.user
        self._changed()
        return self._status

    @apply.validator
    def _validate_apply(self, person: PersonAction) -> None:
        self._check_apply(person, self._card.card_ts)

    @workflow.run
    async def run(self, request: OptimizeRequest) -> OptimizeStatus:
        workflow.upsert_search_attributes(search.optimize_attributes(request))
        keeping_card = asyncio.create_task(self._card._keep_sending(self._send_card))
        try:
            target, first = await self._optimize(request)
            self._status.state = OptimizeState.succeeded
            if self._status.indexes:
                self._changed()
                try:
                    await self._wait_for_apply(request, target, first)
                except OptimizeFailed:
                    pass  # the stage that failed says why; the first figures stand
        except OptimizeFailed:
            if self._status.state != OptimizeState.cancelled:
                self._status.state = OptimizeState.failed
        except asyncio.CancelledError:  # cancelled from outside: the card says so, then ends
            self._status.state = OptimizeState.cancelled
            self._status.error = self._status.error or "cancelled before it finished"
            self._changed()
            await self._card.flush()
            keeping_card.cancel()
            raise
        self._changed()
        await self._card.flush()
        keeping_card.cancel()
        return self._status

    async def _optimize(self, request: OptimizeRequest) -> tuple[LoadTarget, LoadResult]:
        """The first measure: (where it ran, its figures)."""
        rules = await self._rules([])
        self._access = rules.access
        if not rules.access.may_request(request.requester):
            self._status.state = OptimizeState.cancelled
            self._status.error = (
                f"<@{request.requester}> may not ask for load tests; an admin can add you to "
                "SHIPMATE_DEVELOPERS"
            )
            raise OptimizeFailed
        try:
            target: LoadTarget = await self._stage(
                "target", contracts.find_load_target, request, minutes=2
            )
        except OptimizeFailed:
            self._status.state = OptimizeState.cancelled  # refused: nothing was sent to it
            raise
        status = self._status
        status.environment, status.url = target.environment, target.url
        status.notes += target.said
        self._stages("target").detail = f"v{target.version} at {target.url}"
        target = await self._may_load(request, target)
        measured = await self._measure(request, target)
        return target, measured.load

    async def _measure(
        self,
        request: OptimizeRequest,
        target: LoadTarget,
        before: LoadResult | None = None,
        suffix: str = "",
    ) -> Measured:
        """Load, analyze, report: once, and again after Apply (`suffix` " again")."""
        status = self._status
        measured: Measured = await self._stage(
            "load" + suffix,
            contracts.load_service,
            LoadInput(target=target, seed=not target.production and before is None),
            minutes=(target.seed_seconds + target.seconds + 240) / 60,
            heartbeat=timedelta(minutes=1),
            retry=ONCE,  # a load is never sent twice: a failed run says why instead
        )
        if before is None:
            status.seeded = measured.seeded
        status.notes += measured.notes
        if measured.load.stopped_early:
            status.notes.append(f"stopped early: {measured.load.stopped_early}")
        total = measured.load.total
        self._stages(
            "load" + suffix
        ).detail = f"{total.requests} requests, {total.rps:.0f}/s, p95 {total.p95_ms:.0f} ms"
        findings: Findings = await self._stage(
            "analyze" + suffix,
            contracts.find_slow_spots,
            AnalyzeInput(target=target, measured=measured),
            minutes=5,
        )
        spots = findings.spots
        status.spots = spots
        if before is None:
            status.indexes = findings.indexes
        self._stages("analyze" + suffix).detail = (
            f"{len(spots)} slow spots" if spots else "nothing slow found"
        )
        report = ReportInput(
            request=request, target=target, measured=measured, spots=spots, before=before
        )
        await self._stage("report" + suffix, contracts.report_load, report, minutes=3)
        if before is not None:
            status.before = before.model_copy(update={"timeline": []})
        status.load = measured.load.model_copy(update={"timeline": []})  # the chart has it
        self._changed()
        return measured

    async def _may_load(self, request: OptimizeRequest, target: LoadTarget) -> LoadTarget:
        """A production environment waits for as many yeses as its deploys need, from its
        approvers, and is loaded without creating anything in it."""
        rules = await self._rules([target.environment])
        policy = rules.policies.get(target.environment)
        named = policy.production if policy is not None else None
        if not (is_production(target.environment) if named is None else named):
            return target
        self._policy = policy or ApprovalPolicy()
        needed = max(1, self._policy.required_approvals)
        self._status.state = OptimizeState.waiting
        self._changed()
        try:
            await workflow.wait_condition(
                lambda: len(self._status.go_aheads) >= needed,
                timeout=timedelta(minutes=request.go_ahead_minutes),
            )
        except TimeoutError:
            self._status.state = OptimizeState.cancelled
            self._status.error = (
                f"nobody said yes to loading {target.environment} within "
                f"{request.go_ahead_minutes:.0f} minutes: nothing was sent to it"
            )
            raise OptimizeFailed from None
        self._status.state = OptimizeState.running
        self._status.notes.append(
            f"{target.environment} is loaded with reads only: nothing is created in it"
        )
        self._changed()
        return target.model_copy(update={"production": True})

    async def _rules(self, environments: list[str]) -> Rules:
        """Who may ask, and approve, is the worker's word, not the bot's."""
        try:
            return await self._activity(
                contracts.environment_rules, RulesInput(environments=environments), seconds=60
            )
        except ActivityError as err:
            self._status.error = f"the rules of who may ask could not be read: {cause(err)}"
            raise OptimizeFailed from None

    async def _stage(
        self,
        name: str,
        activity,
        arg,
        *,
        minutes: float,
        heartbeat: timedelta | None = None,
        retry: RetryPolicy = RETRY,
        keep_running: bool = False,
    ):
        """`keep_running`: the stage goes on after its activity (Apply follows its change)."""
        stage = self._stages(name)
        stage.state, stage.started_at = StageState.running, workflow.now()
        self._changed()
        try:
            result = await self._activity(
                activity, arg, seconds=minutes * 60, heartbeat=heartbeat, retry=retry
            )
        except ActivityError as err:
            stage.state, stage.finished_at = StageState.failed, workflow.now()
            stage.detail = self._status.error = cause(err)
            raise OptimizeFailed from None
        if not keep_running:
            stage.state, stage.finished_at = StageState.succeeded, workflow.now()
        self._changed()
        return result

    async def _activity(self, activity, arg, *, seconds: float, heartbeat=None, retry=RETRY):
        return await workflow.execute_activity(
            activity,
            arg,
            task_queue=queue_for(activity.__name__, arg),
            start_to_close_timeout=timedelta(seconds=seconds),
            heartbeat_timeout=heartbeat,
            retry_policy=retry,
        )

    async def _send_card(self) -> None:
        try:
            await workflow.execute_activity(
                contracts.notify_optimize,
                self._status.for_card(),
                task_queue=queue_for("notify_optimize"),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
        except ActivityError:
            workflow.logger.warning(
                "the load test's card could not be sent; the next change retries"
            )

    def _stages(self, name: str) -> Stage:
        return next(stage for stage in self._status.stages if stage.name == name)

    def _changed(self) -> None:
        if self._status.slack_channel:
            self._card.changed()
