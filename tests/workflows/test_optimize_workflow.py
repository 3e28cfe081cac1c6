"""The load test's workflow logic on the real Temporal server, with scripted stages: the
stages run in order, a refused target sends nothing, only people who may ask get a load
test, and a production environment is loaded only after a yes from one of its approvers.

The real stages (the service, Locust, PostgreSQL, Slack) are tested in
tests/end_to_end/test_optimize.py and tests/optimize/.
"""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from testkit.fake_stages import on_every_queue
from testkit.waiting import eventually
from workflows import activity_contracts as contracts
from workflows.access import AccessPolicy, ApprovalPolicy, Origin, PersonAction
from workflows.activity_contracts import implements
from workflows.optimize_models import (
    AnalyzeInput,
    DeliveryOutcome,
    EndpointStats,
    Findings,
    IndexChange,
    LoadInput,
    LoadPoint,
    LoadResult,
    LoadTarget,
    Measured,
    OptimizeRequest,
    OptimizeState,
    OptimizeStatus,
    ReportInput,
    SlowSpot,
    SpeedupInput,
    SpotKind,
)
from workflows.optimize_workflow import OptimizeWorkflow
from workflows.stage_models import Rules, RulesInput

INDEX = IndexChange(entity="Todo", field="owner", table="todos")
SPOT = SlowSpot(
    kind=SpotKind.missing_index,
    table="todos",
    columns=["owner"],
    evidence="Seq Scan on todos reading 60000 rows per call",
    change="add an index on todos(owner)",
)


class Stages:
    def __init__(self, environment: str = "staging", refuse: str = "", speedups=False) -> None:
        self.environment = environment
        self.refuse = refuse
        self.speedups = speedups
        self.version = 2
        self.polls = 0
        self.asked: list[SpeedupInput] = []
        self.called: list[str] = []
        self.loaded: list[LoadInput] = []

    def activities(self) -> list:
        stages = self

        @implements(contracts.environment_rules)
        async def environment_rules(request: RulesInput) -> Rules:
            policies = {  # production: nobody loads it alone, as nobody ships to it alone
                env: ApprovalPolicy(
                    approvers=["U0ALICE", "U0BOB"],
                    production=env == "production",
                    requester_may_approve=env != "production",
                )
                for env in request.environments
            }
            return Rules(policies=policies, access=AccessPolicy(developers=["U0ALICE", "U0BOB"]))

        @implements(contracts.find_load_target)
        async def find_load_target(request: OptimizeRequest) -> LoadTarget:
            stages.called.append("target")
            if stages.refuse:
                raise ApplicationError(stages.refuse, non_retryable=True)
            return LoadTarget(
                service=request.service,
                environment=stages.environment,
                url="http://127.0.0.1:18080",
                version=stages.version,
                database="postgresql",
                seconds=30,
                users=50,
            )

        @implements(contracts.load_service)
        async def load_service(request: LoadInput) -> Measured:
            stages.called.append("load")
            stages.loaded.append(request)
            p95 = 80 if stages.version == 2 else 8  # an index later, ten times faster
            total = EndpointStats(name="Aggregated", requests=900, p50_ms=12, p95_ms=p95, rps=30)
            timeline = [LoadPoint(at_s=n, rps=30) for n in range(30)]
            load = LoadResult(
                target=request.target.url, seconds=30, users=50, total=total, timeline=timeline
            )
            return Measured(load=load, seeded=120, statements_on=True)

        @implements(contracts.find_slow_spots)
        async def find_slow_spots(request: AnalyzeInput) -> Findings:
            stages.called.append("analyze")
            return Findings(spots=[SPOT], indexes=[INDEX] if stages.speedups else [])

        @implements(contracts.request_speedup)
        async def request_speedup(request: SpeedupInput) -> str:
            stages.called.append("change")
            stages.asked.append(request)
            return "delivery/orders-api/3"

        @implements(contracts.delivery_outcome)
        async def delivery_outcome(delivery_id: str) -> DeliveryOutcome:
            stages.called.append("follow")
            stages.polls += 1
            if stages.polls < 3:
                return DeliveryOutcome(finished=False, state="waiting_for_approval")
            stages.version = 3
            return DeliveryOutcome(finished=True, state="succeeded", version=3)

        @implements(contracts.report_load)
        async def report_load(report: ReportInput) -> str:
            stages.called.append("report")
            assert len(report.measured.load.timeline) == 30  # the chart gets every second
            return "F0CHART"

        @implements(contracts.notify_optimize)
        async def notify_optimize(status: OptimizeStatus) -> None:
            return None

        return [
            environment_rules,
            find_load_target,
            load_service,
            find_slow_spots,
            report_load,
            notify_optimize,
            request_speedup,
            delivery_outcome,
        ]


async def _start(client, stages: Stages, requester: str = "U0ALICE", **asked):
    queue = f"optimize-{uuid.uuid4().hex[:8]}"
    workers = on_every_queue(client, queue, [OptimizeWorkflow], stages.activities())
    request = OptimizeRequest(service="orders-api", requester=requester, **asked)
    return workers, queue, request


async def test_a_load_test_runs_its_stages_in_order_and_keeps_the_figures(client):
    stages = Stages()
    workers, queue, request = await _start(client, stages)
    async with workers:
        handle = await client.start_workflow(
            OptimizeWorkflow.run, request, id=f"optimize/{queue}", task_queue=queue
        )
        final = await handle.result()
    assert final.state == OptimizeState.succeeded
    assert stages.called == ["target", "load", "analyze", "report"]
    assert final.load is not None and final.load.total.p95_ms == 80
    assert final.load.timeline == []  # the chart has it; the history keeps no copy
    assert final.spots == [SPOT] and final.seeded == 120
    assert final.url == "http://127.0.0.1:18080" and final.environment == "staging"


async def test_a_refused_target_sends_nothing_and_says_why(client):
    why = "orders-api is not deployed to production; it runs in staging"
    stages = Stages(refuse=why)
    workers, queue, request = await _start(client, stages, environment="production")
    async with workers:
        handle = await client.start_workflow(
            OptimizeWorkflow.run, request, id=f"optimize/{queue}", task_queue=queue
        )
        final = await handle.result()
    assert final.state == OptimizeState.cancelled and final.error == why
    assert stages.called == ["target"]


async def test_only_people_who_may_ask_for_work_get_a_load_test(client):
    stages = Stages()
    workers, queue, request = await _start(client, stages, requester="U0MALLORY")
    async with workers:
        handle = await client.start_workflow(
            OptimizeWorkflow.run, request, id=f"optimize/{queue}", task_queue=queue
        )
        final = await handle.result()
    assert "may not ask for load tests" in (final.error or "")
    assert stages.called == []  # not even the address was looked up


async def test_production_is_loaded_only_after_a_yes_from_its_approver(client):
    stages = Stages(environment="production")
    workers, queue, request = await _start(client, stages, environment="production")
    async with workers:
        handle = await client.start_workflow(
            OptimizeWorkflow.run, request, id=f"optimize/{queue}", task_queue=queue
        )

        async def waiting():
            status = await handle.query(OptimizeWorkflow.status)
            return status if status.state == OptimizeState.waiting else None

        await eventually(waiting, what="the load test to wait for a yes")
        assert stages.called == ["target"]
        stranger = PersonAction(user="U0CAROL", origin=Origin.command)
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await handle.execute_update(OptimizeWorkflow.go_ahead, stranger)
        assert "may approve production deploys" in str(caught.value.cause)
        asker = PersonAction(user="U0ALICE", origin=Origin.command)  # an approver, who asked
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await handle.execute_update(OptimizeWorkflow.go_ahead, asker)
        assert "you asked for this load test" in str(caught.value.cause)

        await handle.execute_update(
            OptimizeWorkflow.go_ahead, PersonAction(user="U0BOB", origin=Origin.command)
        )
        final = await handle.result()
    assert final.state == OptimizeState.succeeded and final.go_aheads == ["U0BOB"]
    assert stages.called == ["target", "load", "analyze", "report"]
    assert stages.loaded[0].target.production and not stages.loaded[0].seed  # reads only


async def test_production_without_a_yes_is_never_loaded(client):
    stages = Stages(environment="production")
    workers, queue, request = await _start(
        client, stages, environment="production", go_ahead_minutes=0.02
    )
    async with workers:
        handle = await client.start_workflow(
            OptimizeWorkflow.run, request, id=f"optimize/{queue}", task_queue=queue
        )
        final = await handle.result()
    assert final.state == OptimizeState.cancelled
    assert "nothing was sent to it" in (final.error or "")
    assert stages.called == ["target"]


async def test_apply_asks_for_the_indexes_follows_the_change_and_measures_again(client):
    stages = Stages(speedups=True)
    workers, queue, request = await _start(client, stages, poll_seconds=0.2)
    async with workers:
        handle = await client.start_workflow(
            OptimizeWorkflow.run, request, id=f"optimize/{queue}", task_queue=queue
        )

        async def measured():
            status = await handle.query(OptimizeWorkflow.status)
            return status if status.state == OptimizeState.succeeded else None

        status = await eventually(measured, what="the first measure")
        assert status.indexes == [INDEX] and stages.asked == []  # nothing applied by itself
        stranger = PersonAction(user="U0CAROL", origin=Origin.command)  # not a developer
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await handle.execute_update(OptimizeWorkflow.apply, stranger)
        assert "may apply its speed-ups" in str(caught.value.cause)

        await handle.execute_update(
            OptimizeWorkflow.apply, PersonAction(user="U0BOB", origin=Origin.command)
        )
        final = await handle.result()
    assert stages.called == [
        *("target", "load", "analyze", "report", "change", "follow", "follow", "follow"),
        *("target", "load", "analyze", "report"),
    ]
    assert [(a.version, a.indexes, a.requester) for a in stages.asked] == [(2, [INDEX], "U0BOB")]
    assert final.apply_delivery == "delivery/orders-api/3"
    assert final.before is not None and final.before.total.p95_ms == 80
    assert final.load is not None and final.load.total.p95_ms == 8
    assert [s.state.value for s in final.stages][-4:] == ["succeeded"] * 4
