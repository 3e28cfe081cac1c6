"""The delivery's stages as Temporal activities, bound to the worker's settings.

Each one is idempotent (same inputs, same image tag, same container), turns the
person's mistakes into non-retryable errors and leaves the system's to Temporal's
retries. Docker calls block, so these are sync activities run in the worker's thread
pool, heartbeating while they work.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from docker.errors import DockerException
from temporalio.exceptions import ApplicationError

from activities import artifacts, images, sandbox
from activities.deploy_guard import NotApproved, check_approved
from activities.deploy_targets import DeployFailed, driver_for
from activities.deploy_targets.naming import installation_id
from activities.heartbeats import keeps_heartbeating, progress
from activities.log_scrub import scrub, scrub_tail
from activities.scaffold.fixes import FIXES_DIR, FixDoesNotApply, apply_fixes
from activities.scaffold.generator import earlier_versions, missing_versions, write_service
from activities.scaffold.repository import PushFailed, catch_up, commit_version, push_version
from shipmate.settings import Settings
from understanding import understand
from workflows import activity_contracts as contracts
from workflows.activity_contracts import implements
from workflows.spec import ServiceSpec
from workflows.stage_models import (
    BuiltImage,
    DeployInput,
    DeployResult,
    PlanInput,
    ScaffoldInput,
    ScaffoldResult,
    TeardownInput,
    TestReport,
)

log = logging.getLogger(__name__)


def _heartbeat(detail: str) -> None:
    """The stage's progress: its heartbeat details until it reports the next."""
    progress(detail)


class DeliveryActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    def all(self) -> list:
        """One implementation per declared stage, found by the contract's name."""
        return [getattr(self, contract.__name__) for contract in contracts.DELIVERY_STAGES]

    @implements(contracts.plan_service)
    def plan_service(self, request: PlanInput) -> ServiceSpec:
        result = understand(self.settings, [request.request_text], request.base_spec)
        if result.spec is None:
            raise ApplicationError(
                "I need more to go on: " + " ".join(result.questions),
                result.questions,
                type="NeedsClarification",
                non_retryable=True,
            )
        return result.spec

    @implements(contracts.scaffold_service)
    def scaffold_service(self, request: ScaffoldInput) -> ScaffoldResult:
        spec = request.spec
        repo = (self.settings.services_dir / spec.name).resolve()
        fingerprint, files = write_service(spec, repo, self._earlier_versions(request, repo))
        fixed, notes = self._apply_fixes(request, repo)
        if fixed:  # the image tag follows the code, fixes included
            fingerprint = hashlib.sha256(f"{fingerprint}\0{fixed}".encode()).hexdigest()
        remote = (
            self.settings.git_remote.format(service=spec.name) if self.settings.git_remote else None
        )
        if remote:
            catch_up(repo, remote)
        request_line = " ".join(request.request_text.split())[:200] or spec.description[:200]
        commit_version(
            repo,
            f"{spec.name} v{spec.version}: {request_line}\n\n"
            f"Requested by {request.requester or 'unknown'} through Shipmate.",
        )
        if remote:
            try:
                push_version(repo, remote)
            except PushFailed as exc:  # `retry` pushes again once the remote is fixed
                raise ApplicationError(str(exc), type="PushFailed", non_retryable=True) from None
        return ScaffoldResult(
            service=spec.name,
            version=spec.version,
            path=str(repo),
            files=files,
            fingerprint=fingerprint,
            artifact=_stored(lambda: artifacts.save(self.settings, spec.name, repo)),
            notes=notes,
        )

    def _apply_fixes(self, request: ScaffoldInput, repo: Path) -> tuple[str, list[str]]:
        """A review's fixes, kept from earlier versions and asked for now (scaffold.fixes)."""
        if request.earlier_repository:
            kept = _stored(
                lambda: artifacts.files_under(self.settings, request.earlier_repository, FIXES_DIR)
            )
        else:
            kept = {p.name: p.read_bytes() for p in sorted((repo / FIXES_DIR).glob("*.patch"))}
        if not kept and not request.fixes:
            return "", []
        try:
            return apply_fixes(repo, kept, request.fixes)
        except FixDoesNotApply as exc:
            raise ApplicationError(str(exc), type="FixDoesNotApply", non_retryable=True) from None

    @implements(contracts.test_service)
    @keeps_heartbeating
    def test_service(self, scaffold: ScaffoldResult) -> TestReport:
        """The sources go into a container of the `test-deps` image (built once per set
        of requirements), which is the Dockerfile's test image without a build per change."""
        project = self._project(scaffold)
        tested = f"{scaffold.service}:test-{scaffold.fingerprint[:12]}"
        if images.has_stage(project, "test-deps"):
            image = _built(lambda: images.test_deps_image(self.settings, project, _heartbeat))
            sources = artifacts.pack(project)
        else:  # scaffolded by a Shipmate before test-deps: its test image holds the sources
            image, sources = tested, None
            self._build(project, image, "test")
        try:
            report = sandbox.run_tests_in_container(
                self.settings, image, _heartbeat, sources=sources, tested=tested
            )
        except sandbox.TestsFailed as exc:
            raise _refused(exc, exc.report.output_tail, "TestsFailed") from None
        except DockerException as exc:
            raise ApplicationError(
                f"Docker engine error: {exc}", type="DockerUnavailable"
            ) from None
        report.output_tail = scrub_tail(report.output_tail)  # it reaches the history too
        return report

    @implements(contracts.build_service_image)
    @keeps_heartbeating
    def build_service_image(self, scaffold: ScaffoldResult) -> BuiltImage:
        image = f"{scaffold.service}:v{scaffold.version}-{scaffold.fingerprint[:12]}"
        image_id = self._build(self._project(scaffold), image, "runtime")
        return BuiltImage(image=image, image_id=image_id, artifact=scaffold.artifact)

    def _earlier_versions(self, request: ScaffoldInput, repo: Path) -> list[ServiceSpec]:
        """The versions before this one, from the running version's repository (whichever
        worker wrote it); a change queued before repositories travelled reads this
        worker's disk. A gap would break the migration chain, so it stops the stage."""
        if request.earlier_repository:
            stored = _stored(
                lambda: artifacts.files_under(self.settings, request.earlier_repository, "specs")
            )
            held = [ServiceSpec.model_validate_json(data) for _, data in sorted(stored.items())]
            where = f"the running version's repository ({request.earlier_repository})"
        else:
            held, where = earlier_versions(repo), "this worker's disk"
        history = [s for s in held if s.version < request.spec.version]
        missing = missing_versions(request.spec, history)
        if missing:  # retried: another worker's disk may hold them
            listed = ", ".join(f"v{v}" for v in missing)
            raise ApplicationError(
                f"v{request.spec.version} of {request.spec.name} must follow every earlier "
                f"version's migrations, and {listed} cannot be found in {where}",
                type="EarlierVersionsMissing",
            )
        return history

    def _project(self, scaffold: ScaffoldResult) -> Path:
        """The repository ready to build, from the artifact store (any worker) or, for a
        delivery scaffolded before the store existed, from the path it was written to."""
        if scaffold.artifact:
            return self._checkout(scaffold.artifact)
        project = Path(scaffold.path)
        self._ready(project)
        return project

    def _checkout(self, key: str) -> Path:
        return _stored(lambda: artifacts.checkout(self.settings, key, self._ready))

    def _ready(self, project: Path) -> None:
        images.prepare_build_context(self.settings, project)

    def _build(self, project: Path, tag: str, target: str) -> str:
        """One stage of the service's Dockerfile."""
        return _built(lambda: images.build_image(self.settings, project, tag, target, _heartbeat))

    @implements(contracts.push_service_image)
    @keeps_heartbeating
    def push_service_image(self, built: BuiltImage) -> str:
        if built.artifact and not images.image_present(self.settings, built.image):
            # built by a worker on another Docker engine: the same sources, the same tag
            self._build(self._checkout(built.artifact), built.image, "runtime")
        installation = installation_id(self.settings)
        return images.push_image(self.settings, built.image, _heartbeat, installation)

    @implements(contracts.deploy_service)
    @keeps_heartbeating
    def deploy_service(self, request: DeployInput) -> DeployResult:
        try:
            check_approved(self.settings, request)
        except NotApproved as exc:
            raise ApplicationError(str(exc), type="NotApproved", non_retryable=True) from None
        try:
            return driver_for(request.target).deploy(self.settings, request, _heartbeat)
        except DeployFailed as exc:
            raise _refused(exc, exc.log_tail, "DeployRefused") from None

    @implements(contracts.describe_teardown)
    def describe_teardown(self, request: TeardownInput) -> str:
        return driver_for(request.target).describe_teardown(self.settings, request)

    @implements(contracts.tear_down_service)
    @keeps_heartbeating
    def tear_down_service(self, request: TeardownInput) -> str:
        try:
            return driver_for(request.target).tear_down(self.settings, request, _heartbeat)
        except DeployFailed as exc:
            raise ApplicationError(str(exc), type="TeardownRefused", non_retryable=True) from None

    @implements(contracts.verify_service)
    @keeps_heartbeating
    def verify_service(self, deployed: DeployResult) -> None:
        try:
            driver_for(deployed.target).verify(self.settings, deployed, _heartbeat)
        except DeployFailed as exc:
            raise _refused(exc, exc.log_tail, "Unhealthy") from None


def _built(call):
    """The image `call` builds; a failing build is not worth a retry: it fails the stage
    with the build log's tail."""
    try:
        return call()
    except images.ImageBuildFailed as exc:
        raise _refused(exc, exc.log_tail, "BuildFailed") from None


def _refused(exc: Exception, log_tail, kind: str) -> ApplicationError:
    """A failure no retry helps, for the thread and the history: its message and log tail
    leave the worker scrubbed of anything shaped like a secret (the deploy targets have
    already taken the service's own secret values out of theirs)."""
    return ApplicationError(scrub(str(exc)), scrub_tail(log_tail), type=kind, non_retryable=True)


def _stored(call):
    """The artifact store's answer; a store that lost or cannot give it fails the stage
    (retried, then left for a person's `retry`) with where it looked."""
    try:
        return call()
    except artifacts.ArtifactMissing as exc:
        raise ApplicationError(str(exc), type="ArtifactMissing") from None
