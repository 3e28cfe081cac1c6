"""The optimization's stages as Temporal activities, bound to the worker's settings.

target finds the stable address in Shipmate's own records, load seeds rows through the
service's API and then loads it with Locust (in a process of its own), analyze reads the
database's statement statistics and plans, and report puts the chart in the thread. A
person's mistake (an unknown service, an environment it is not in) and a service that
fails under load are non-retryable errors whose message the card shows as it is: a
load test is never run twice by a retry.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.deploy_targets.naming import database_identifier
from activities.optimize import postgres_findings, speedups
from activities.optimize.card_messages import send_card
from activities.optimize.chart import load_chart
from activities.optimize.load_plan import LoadPlan, plan_calls
from activities.optimize.load_run import LoadError, run_load
from activities.optimize.speedups import index_changes
from activities.optimize.target import TargetRefused, find_target, served_here, sign_in_headers
from activities.slack_files import upload_to_thread
from shipmate import delivery_client
from shipmate.settings import Settings
from slack_views.text import escape
from workflows import activity_contracts as contracts
from workflows.activity_contracts import implements
from workflows.optimize_models import (
    AnalyzeInput,
    DeliveryOutcome,
    Findings,
    LoadInput,
    LoadTarget,
    Measured,
    OptimizeRequest,
    OptimizeStatus,
    ReportInput,
    SlowSpot,
    SpeedupInput,
)

log = logging.getLogger(__name__)
SEED_USERS = 10
FAILING = 0.2  # a run stops once this share of requests fails


class OptimizeActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    def all(self) -> list:
        return [getattr(self, contract.__name__) for contract in contracts.OPTIMIZE_STAGES]

    @implements(contracts.find_load_target)
    async def find_load_target(self, request: OptimizeRequest) -> LoadTarget:
        try:
            return await find_target(self.settings, activity.client(), request)
        except TargetRefused as exc:
            raise ApplicationError(str(exc), type="TargetRefused", non_retryable=True) from None

    @implements(contracts.load_service)
    def load_service(self, request: LoadInput) -> Measured:
        """Never retried (the workflow runs it once): every failure is said as it is."""
        try:
            return self._load(request)
        except ApplicationError:
            raise
        except Exception as exc:  # a bug or a broken part: the card says which, not how
            log.exception("the load test of %s failed", request.target.service)
            raise ApplicationError(
                f"the load test stopped on an error of mine ({type(exc).__name__}); "
                "the worker's log has the details",
                type="LoadFailed",
                non_retryable=True,
            ) from None

    def _load(self, request: LoadInput) -> Measured:
        target = request.target
        work = Path(tempfile.mkdtemp(prefix="shipmate-load-"))
        try:
            served_here(self.settings, target.service, target.environment, target.url)
            headers = sign_in_headers(self.settings, target)
            plan = plan_calls(_openapi(target))
            if target.production:  # reads only: nothing made-up lands in production
                plan = LoadPlan(calls=[c for c in plan.calls if c.kind != "create"])
            seeded = self._seed(target, plan, headers, work) if request.seed else 0
            statements_on, notes = self._reset_statements(target)
            activity.heartbeat(f"loading {target.url} with {target.users} users")
            load = run_load(
                target.url,
                plan,
                users=target.users,
                seconds=target.seconds,
                spawn_rate=max(1.0, target.users / 5),
                headers=headers,
                max_error_ratio=FAILING,
                heartbeat=activity.heartbeat,
                work_dir=work / "load",
            )
        except (TargetRefused, LoadError) as exc:
            raise ApplicationError(str(exc), type="LoadRefused", non_retryable=True) from None
        finally:
            shutil.rmtree(work, ignore_errors=True)  # it held the token's file
        return Measured(load=load, seeded=seeded, statements_on=statements_on, notes=notes)

    def _seed(self, target: LoadTarget, plan: LoadPlan, headers: dict, work: Path) -> int:
        """Rows made through the API first, so the queries meet more than an empty table."""
        creates = [call for call in plan.calls if call.kind == "create"]
        if not creates or self.settings.load_seed_seconds == 0:
            return 0
        activity.heartbeat(
            f"creating rows in {target.service} for {self.settings.load_seed_seconds} s"
        )
        seeded = run_load(
            target.url,
            LoadPlan(calls=creates),
            users=min(SEED_USERS, target.users),
            seconds=self.settings.load_seed_seconds,
            spawn_rate=SEED_USERS,
            headers=headers,
            max_error_ratio=FAILING,
            heartbeat=activity.heartbeat,
            work_dir=work / "seed",
        )
        return sum(
            e.requests - e.failures
            for e in seeded.endpoints
            if e.name.startswith("POST ") and "[" not in e.name
        )

    def _reset_statements(self, target: LoadTarget) -> tuple[bool, list[str]]:
        """Statement statistics from now on cover this run only; a note when there are none."""
        if target.database != "postgresql":
            return False, [
                f"statement statistics are read from PostgreSQL only, not {target.database}"
            ]
        url = self._database_url(target)
        if url is None:
            return False, ["no SHIPMATE_POSTGRES_URL on this worker: statement statistics skipped"]
        try:
            if not postgres_findings.reset_statements(url):
                return False, [postgres_findings.TURN_ON]
        except psycopg.Error as exc:  # the figures still count; the statistics are a bonus
            log.warning("statement statistics of %s: %s", target.service, type(exc).__name__)
            return False, ["the database's statement statistics could not be read"]
        return True, []

    def _database_url(self, target: LoadTarget) -> str | None:
        """The admin's URL on the service's own database (reading statistics needs it)."""
        admin = self.settings.postgres_url
        if not admin:
            return None
        name = database_identifier(self.settings, target.service, target.environment)
        return urlunsplit(urlsplit(admin)._replace(path=f"/{name}"))

    @implements(contracts.find_slow_spots)
    async def find_slow_spots(self, request: AnalyzeInput) -> Findings:
        spots = await asyncio.to_thread(self._spots, request)
        spec = await delivery_client.current_spec(activity.client(), request.target.service)
        fits = spec is not None and spec.version == request.target.version
        return Findings(spots=spots, indexes=index_changes(spec, spots) if fits else [])

    def _spots(self, request: AnalyzeInput) -> list[SlowSpot]:
        if not request.measured.statements_on:
            return []
        url = self._database_url(request.target)
        assert url is not None  # statements_on says the load stage found it
        try:
            return postgres_findings.find_slow_spots(url, request.measured.load)
        except postgres_findings.StatementsOff as exc:
            raise ApplicationError(str(exc), type="StatementsOff", non_retryable=True) from None
        except psycopg.OperationalError as exc:  # the server is away: worth another try
            raise ApplicationError(
                f"the database did not answer ({type(exc).__name__})", type="DatabaseAway"
            ) from None

    @implements(contracts.report_load)
    def report_load(self, report: ReportInput) -> str:
        request, target = report.request, report.target
        if not request.slack_channel:
            return ""
        chart = load_chart(report.measured.load, before=report.before)
        run = activity.info().workflow_id.rsplit("/", 1)[-1].replace(".", "")[-8:]
        name = f"load-{target.service}-{target.environment}-{run}.png"  # each run its own
        title = f"Load test of {target.service} in {target.environment}"
        try:
            ids = upload_to_thread(
                self.settings,
                request.slack_channel,
                request.slack_thread_ts,
                [(name, chart, title)],
                f"{escape(title)}: response times and requests per second.",
            )
        except Exception as exc:  # noqa: BLE001 - the card still has the figures
            log.warning("the load test's chart was not uploaded: %s", type(exc).__name__)
            return ""
        return ids[0] if ids else ""

    @implements(contracts.notify_optimize)
    async def notify_optimize(self, status: OptimizeStatus) -> None:
        await send_card(self.settings, activity.client(), status)

    @implements(contracts.request_speedup)
    async def request_speedup(self, request: SpeedupInput) -> str:
        try:
            return await speedups.request_speedup(self.settings, activity.client(), request)
        except speedups.SpeedupRefused as exc:
            raise ApplicationError(str(exc), type="Refused", non_retryable=True) from None

    @implements(contracts.delivery_outcome)
    async def delivery_outcome(self, delivery_id: str) -> DeliveryOutcome:
        return await speedups.delivery_outcome(activity.client(), delivery_id)


def _openapi(target: LoadTarget) -> dict:
    """The service's own description of its API, from its stable address."""
    try:
        answer = httpx.get(f"{target.url}/openapi.json", timeout=15, trust_env=False)
        answer.raise_for_status()
        return answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise TargetRefused(
            f"{target.service} did not describe its API at {target.url}/openapi.json "
            f"({type(exc).__name__}): nothing to load"
        ) from None
