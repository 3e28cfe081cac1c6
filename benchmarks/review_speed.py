"""A review of a generated 5-entity service, timed: `python -m benchmarks.review_speed`.

The whole ReviewWorkflow with the real stages: the service's repository is served by a
local git host (as a team's repository would be), fetched, analyzed in the sandbox
with ruff, bandit, mypy, radon and Shipmate's own checks, read by the model stage (no
key: static only) and reported. Slack is left out (no channel): its pace is the
outbox's. A Temporal dev server and a worker run in this process; the first round also
builds the analyzer image and is printed apart. Target: 60 s or less. Asserts nothing.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from activities.scaffold.generator import write_service
from cli import devstack
from cli.worker import build_workers
from shipmate.settings import Settings
from shipmate.temporal import connect
from testkit.git_server import GitServer
from understanding import parse_request
from workflows.review_models import ReviewRequest, ReviewSource, SourceKind
from workflows.review_workflow import ReviewWorkflow

FIVE_ENTITIES = (
    "library api: authors have name; books have title, isbn (unique) and author; "
    "members have email (unique) and name; loans have book, member and due date; "
    "branches have city and opened_on date"
)


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and "wheelhouse" not in p.parts
    }


async def main(rounds: int = 3) -> None:
    print(f"review of a generated 5-entity service, whole workflow; {rounds} warm rounds")
    with tempfile.TemporaryDirectory(prefix="review-bench-") as tmp:
        state = Path(tmp)
        spec = parse_request(FIVE_ENTITIES).spec
        write_service(spec, state / "service")
        with devstack.LocalStack(echo=lambda line: None) as local, GitServer(state / "git") as git:
            port = devstack.free_port()
            local.start(devstack.temporal_part(state, port, devstack.free_port()))
            repo = git.add_repo("library", _files(state / "service"))
            settings = Settings(
                temporal_address=f"127.0.0.1:{port}",
                task_queue=f"review-bench-{uuid.uuid4().hex[:6]}",
                state_dir=state / "shipmate",
                wheelhouse=Path("~/.cache/shipmate/wheelhouse").expanduser(),  # the tests' too
                developers=["U0ALICE"],
                review_git_hosts=[git.host],
            )
            client = await connect(settings)
            async with build_workers(client, settings):
                times = []
                for round_ in range(rounds + 1):
                    request = ReviewRequest(
                        source=ReviewSource(kind=SourceKind.git, url=repo.url),
                        requester="U0ALICE",
                    )
                    started = time.perf_counter()
                    status = await client.execute_workflow(
                        ReviewWorkflow.run,
                        request,
                        id=f"review/bench/{uuid.uuid4().hex[:8]}",
                        task_queue=settings.task_queue,
                    )
                    took = time.perf_counter() - started
                    stages = ", ".join(
                        f"{s.name} {(s.finished_at - s.started_at).total_seconds():.1f}s"
                        for s in status.stages
                        if s.started_at and s.finished_at
                    )
                    counts = status.counts or {"none": 0}
                    label = (
                        "first (builds the analyzer image if missing)"
                        if round_ == 0
                        else f"round {round_}"
                    )
                    print(f"  {label}: {took:.1f} s ({status.state}; {stages}; findings {counts})")
                    if round_:
                        times.append(took)
                print(f"  median {statistics.median(times):.1f} s (target: 60 s or less)")


if __name__ == "__main__":
    asyncio.run(main())
