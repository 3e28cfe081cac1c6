"""Apply, then measure again: the second half of an OptimizeWorkflow.

Apply (the card's button, by the requester or a developer) asks the service for a change
delivery adding the indexes the analysis named; it goes through the service's tests and
gates like any change. Once it is live where the load test ran, the same load runs again
and the card shows before and after. Nothing is applied by itself, and the offer ends
after `apply_days`.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.failures import cause

with workflow.unsafe.imports_passed_through():
    from workflows import activity_contracts as contracts
    from workflows.access import AccessPolicy, Origin, PersonAction
    from workflows.models import Stage, StageState
    from workflows.optimize_models import (
        LoadTarget,
        OptimizeRequest,
        OptimizeState,
        OptimizeStatus,
        SpeedupInput,
    )

AGAIN = ("change", "load again", "analyze again", "report again")
MAX_POLL_SECONDS = 600


class OptimizeFailed(Exception):
    """Internal: a stage failed or the run was refused; the card says why."""


class Refused(Exception):
    """Internal: the change could not be asked for or did not go live; the card says why."""


class ApplyingSpeedups:
    """Mixed into OptimizeWorkflow, which provides _stages, _stage, _activity, _changed
    and _measure."""

    _status: OptimizeStatus
    _access: AccessPolicy | None
    _apply_asked: PersonAction | None

    def _check_apply(self, person: PersonAction, card_ts: str | None) -> None:
        status = self._status
        if status.state != OptimizeState.succeeded:
            raise ValueError(f"this load test is {status.state}: there is nothing to apply")
        if not status.indexes:
            raise ValueError("this load test found nothing Apply can change")
        if status.applied_by is not None:
            raise ValueError(f"<@{status.applied_by}> already asked for these speed-ups")
        if status.apply_closed:
            raise ValueError("the time to apply these speed-ups is over: load test it again")
        if person.origin == Origin.card and person.message_ts != card_ts:
            raise ValueError("that button is on an older copy of the load test's card")
        allowed = person.user == status.requester or (
            self._access is not None and self._access.may_request(person.user)
        )
        if not allowed:
            raise ValueError(
                f"only <@{status.requester}>, who asked for the load test, or a developer "
                "(SHIPMATE_DEVELOPERS) may apply its speed-ups"
            )

    async def _wait_for_apply(
        self, request: OptimizeRequest, target: LoadTarget, first_load
    ) -> None:
        ends = workflow.now() + timedelta(days=request.apply_days)
        try:
            await workflow.wait_condition(
                lambda: self._apply_asked is not None, timeout=ends - workflow.now()
            )
        except TimeoutError:
            self._status.apply_closed = True  # the button goes; a late click is refused
            self._changed()
            return
        self._status.stages += [Stage(name=name) for name in AGAIN]
        self._changed()
        try:
            version = await self._apply(request, target, ends)
        except Refused:
            return
        if target.production:  # another load of production is another decision
            self._status.notes.append(
                f"v{version} is delivered; {target.environment} is loaded again only when asked "
                "(and said yes to): load test it again"
            )
            return
        try:
            again = await self._activity(contracts.find_load_target, request, seconds=120)
        except ActivityError as err:
            self._status.notes.append(f"not measured again: {cause(err)}")
            return
        if again.version < version:
            self._status.notes.append(
                f"v{version} is not live in {target.environment} yet: ask me to load test it "
                "again once it is"
            )
            return
        again = again.model_copy(update={"seed_seconds": 0})
        await self._measure(request, again, before=first_load, suffix=" again")

    async def _apply(self, request: OptimizeRequest, target: LoadTarget, ends) -> int:
        """The change delivery, asked for and followed until it ends; the version it made."""
        person = self._apply_asked
        assert person is not None
        status = self._status
        stage = self._stages("change")
        asked = SpeedupInput(
            optimize_id=status.optimize_id,
            service=status.service,
            version=target.version,
            indexes=status.indexes,
            requester=person.user,
            slack_channel=request.slack_channel,
            slack_thread_ts=request.slack_thread_ts,
        )
        try:
            status.apply_delivery = await self._stage(
                "change", contracts.request_speedup, asked, minutes=1, keep_running=True
            )
        except OptimizeFailed:
            raise Refused from None  # the stage says why
        self._changed()
        polls = 0
        while True:
            try:
                outcome = await self._activity(
                    contracts.delivery_outcome, status.apply_delivery, seconds=60
                )
            except ActivityError as err:  # the engine did not answer, three times
                self._finish(
                    stage, ok=False, detail=f"the change could not be followed: {cause(err)}"
                )
                raise Refused from None
            if outcome.finished:
                break
            stage.detail = f"{status.apply_delivery}: {outcome.state.replace('_', ' ')}"
            self._changed()
            if workflow.now() >= ends:
                late = "the change did not finish in time: load test it again later"
                self._finish(stage, ok=False, detail=late)
                raise Refused
            # Soon at first, then every ten minutes at most: a gate may wait a day, and
            # each look is a few events in the history.
            wait = min(MAX_POLL_SECONDS, request.poll_seconds * 1.5**polls)
            polls += 1
            await workflow.sleep(timedelta(seconds=wait))
        self._finish(stage, ok=outcome.state == "succeeded", detail=outcome.error)
        if outcome.state != "succeeded":
            raise Refused
        stage.detail = f"v{outcome.version} delivered ({status.apply_delivery})"
        return outcome.version or target.version + 1

    def _finish(self, stage: Stage, ok: bool, detail: str | None) -> None:
        stage.state = StageState.succeeded if ok else StageState.failed
        stage.finished_at = workflow.now()
        if detail:
            stage.detail = detail[:300]
        self._changed()
