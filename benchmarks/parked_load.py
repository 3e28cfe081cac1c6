"""100 deliveries parked at their gates on one worker: `python -m benchmarks.parked_load`.

A team's deliveries spend most of their life waiting for a person. This holds N of
them at their staging gate on one worker process and prints that process's memory
(RSS) and CPU: at rest before, while they wait, and after every one is approved at
once. Then it counts how many approvals were taken and how many deliveries went live
with the approver on record. Prints figures; asserts nothing.

The worker runs the real workflows (service entity, delivery, gates, validators) with
the tests' stand-in stages, so what is measured is the worker holding parked
workflows, not Docker. Approvals go through the same update (and validator) as the
card's button.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cli import devstack
from cli.identity import DEV_DEVELOPERS
from shipmate import delivery_client
from shipmate.settings import Settings
from shipmate.temporal import connect
from understanding import parse_request
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import DeliveryState

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


class Process:
    """Memory and CPU time of one process, from /proc."""

    def __init__(self, pid: int):
        self.pid = pid

    def rss_mib(self) -> float:
        pages = int(Path(f"/proc/{self.pid}/statm").read_text().split()[1])
        return pages * PAGE / 2**20

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


async def cpu_share(process: Process, seconds: float) -> float:
    """The share of one core the process used over the next `seconds`."""
    before = process.cpu_seconds()
    await asyncio.sleep(seconds)
    return (process.cpu_seconds() - before) / seconds


async def park(client, settings: Settings, n: int) -> list:
    """Ask for n new services; returns their handles once each waits at its gate."""
    spec = parse_request("build a todo api").spec

    async def one(i: int):
        named = spec.model_copy(update={"name": f"parked-{i:03d}-api"})
        ticket = await delivery_client.request_change(client, settings, "", named, "U0ALICE")
        return client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)

    handles = await asyncio.gather(*(one(i) for i in range(n)))
    pending = set(range(n))
    while pending:
        for i in list(pending):
            status = await delivery_client.delivery_status(handles[i])
            if status and status.state == DeliveryState.waiting_for_approval:
                pending.discard(i)
        await asyncio.sleep(0.5)
    return handles


async def approve_all(client, handles) -> tuple[int, list[str]]:
    """Approve every delivery at once, as n people clicking; the refusals, if any."""
    refused: list[str] = []

    async def one(handle) -> None:
        try:
            await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
        except delivery_client.DecisionRefused as exc:
            refused.append(f"{handle.id}: {exc}")

    await asyncio.gather(*(one(h) for h in handles))
    return len(handles) - len(refused), refused


async def landed(handles) -> int:
    """Deliveries that went live with bob's approval on record."""
    finals = await asyncio.gather(*(h.result() for h in handles))
    return sum(
        f.state == DeliveryState.succeeded and f.gates[0].approvals == ["U0BOB"] for f in finals
    )


def parked_settings(port: int, **more) -> Settings:
    """The client's and the worker's: the worker's decide the gates' rules."""
    return Settings(
        temporal_address=f"127.0.0.1:{port}",
        task_queue="parked",
        developers=list(DEV_DEVELOPERS),  # as under `shipmate dev`
        **more,
    )


async def main(n: int = 100) -> None:
    with tempfile.TemporaryDirectory() as state, devstack.LocalStack(echo=lambda _: None) as stack:
        port, ui = devstack.free_port(), devstack.free_port()
        stack.start(devstack.temporal_part(Path(state), port, ui))
        settings = parked_settings(port, state_dir=Path(state))
        worker = stack.start(
            devstack.Part(
                name="worker",
                argv=[sys.executable, "-m", "benchmarks.parked_load", "--worker", str(port)],
                port=0,
                url="task queue parked",
                ready_line="worker polling task queue",
            )
        )
        process = Process(worker.process.pid)
        client = await connect(settings)
        at_rest, cpu, started = process.rss_mib(), process.cpu_seconds(), time.monotonic()
        handles = await park(client, settings, n)
        parked_after, parking_cpu = time.monotonic() - started, process.cpu_seconds() - cpu
        idle_cpu = await cpu_share(process, 20)
        parked_rss = process.rss_mib()
        cpu, started = process.cpu_seconds(), time.monotonic()
        taken, refused = await approve_all(client, handles)
        went_live = await landed(handles)
        approved_after, approving_cpu = time.monotonic() - started, process.cpu_seconds() - cpu
        print(
            f"{n} deliveries parked at their gates on one worker (in {parked_after:.0f} s, "
            f"{parking_cpu:.1f} s of worker CPU): worker RSS {at_rest:.0f} MiB at rest, "
            f"{parked_rss:.0f} MiB with them waiting, {process.rss_mib():.0f} MiB after; "
            f"CPU while they wait {idle_cpu:.1%} of a core"
        )
        print(
            f"approving all {n} at once: {taken}/{n} approvals taken, {went_live}/{n} live with "
            f"the approver on record, in {approved_after:.1f} s ({approving_cpu:.1f} s of worker "
            f"CPU); refused: {refused or 'none'}"
        )


def run_worker(port: int) -> None:
    """The worker process: the real workflows, stand-in stages (testkit/fake_stages.py)."""

    from cli.worker import WORKFLOWS
    from testkit.fake_stages import Script, on_every_queue

    async def serve() -> None:
        settings = parked_settings(port)
        client = await connect(settings)
        with ThreadPoolExecutor(max_workers=8) as executor:
            worker = on_every_queue(
                client,
                task_queue="parked",
                workflows=WORKFLOWS,
                activities=Script(settings=settings).activities(),
                activity_executor=executor,
            )
            print("worker polling task queue parked", flush=True)
            await worker.run()

    asyncio.run(serve())


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        run_worker(int(sys.argv[2]))
    else:
        asyncio.run(main())
