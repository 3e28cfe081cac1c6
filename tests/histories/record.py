"""Record delivery histories for the replay test: `python -m tests.histories.record`.

Run it after a deliberate change to workflow code (one that running deliveries may
break is what the replay test exists to catch), then commit the new JSON files.
`--parked` records the parked production-path histories; those are kept for good.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

from temporalio.worker import Worker

from shipmate import deliveries, devstack
from shipmate.settings import EnvironmentPolicy, Settings
from shipmate.temporal import connect
from tests.fake_stages import Script
from understanding import parse_request
from workflows.delivery import DeliveryWorkflow
from workflows.models import DeliveryState
from workflows.service import ServiceWorkflow

HERE = Path(__file__).parent


async def record(settings: Settings) -> None:
    client = await connect(settings)
    script = Script()
    async with Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[ServiceWorkflow, DeliveryWorkflow],
        activities=script.activities(),
    ):
        for scenario in ("succeeded", "retried", "cancelled", "expired"):
            local = settings
            if scenario == "expired":
                policy = EnvironmentPolicy(timeout_hours=1 / 3600)
                local = settings.model_copy(update={"approval_policies": {"staging": policy}})
            if scenario == "retried":
                script.fail["test_service"] = 1
            spec = parse_request("build a todo api").spec
            spec = spec.model_copy(update={"name": f"{scenario}-{uuid.uuid4().hex[:4]}"})
            ticket = await deliveries.request_change(
                client, local, "build a todo api", spec, "U0ALICE"
            )
            handle = client.get_workflow_handle(ticket.delivery_id)

            async def wait_for(predicate, handle=handle):
                while True:
                    status = await deliveries.delivery_status(handle)
                    if status and predicate(status):
                        return status
                    await asyncio.sleep(0.2)

            if scenario == "retried":
                await wait_for(lambda s: s.state == DeliveryState.failed)
                await deliveries.retry(client, handle.id, "U0ALICE")
            if scenario == "cancelled":
                await wait_for(lambda s: any(g.state == "open" for g in s.gates))
                await deliveries.cancel(client, handle.id, "U0ALICE", "changed my mind")
            elif scenario != "expired":
                await wait_for(lambda s: any(g.state == "open" for g in s.gates))
                await deliveries.decide(client, handle.id, "U0BOB", "staging", approve=True)
            await wait_for(lambda s: True)
            await handle.result()
            history = await handle.fetch_history()
            (HERE / f"delivery_{scenario}.json").write_text(history.to_json())
            service = await client.get_workflow_handle(f"service/{spec.name}").fetch_history()
            (HERE / f"service_{scenario}.json").write_text(service.to_json())
            print(f"recorded {scenario}")


async def record_parked(settings: Settings) -> None:
    """The production path, left parked: a spec given, two environments, a Slack thread,
    staging approved, the prod gate open. Its histories are recorded once and never
    again, so a code change that would strand deliveries waiting at a gate fails replay."""
    client = await connect(settings)
    script = Script()
    async with Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[ServiceWorkflow, DeliveryWorkflow],
        activities=script.activities(),
    ):
        spec = parse_request("build a todo api, deploy to staging then prod").spec
        spec = spec.model_copy(update={"name": f"parked-{uuid.uuid4().hex[:4]}"})
        ticket = await deliveries.request_change(
            client, settings, "build a todo api", spec, "U0ALICE", channel="C0DEV", thread_ts="1.1"
        )
        handle = client.get_workflow_handle(ticket.delivery_id)

        async def gate_open(env: str) -> None:
            while True:
                status = await deliveries.delivery_status(handle)
                if status and any(g.environment == env and g.state == "open" for g in status.gates):
                    return
                await asyncio.sleep(0.2)

        await gate_open("staging")
        await deliveries.decide(client, handle.id, "U0BOB", "staging", approve=True)
        await gate_open("prod")
        await asyncio.sleep(1)  # the card edit for the open gate lands in history too
        (HERE / "parked_delivery.json").write_text((await handle.fetch_history()).to_json())
        service = client.get_workflow_handle(f"service/{spec.name}")
        (HERE / "parked_service.json").write_text((await service.fetch_history()).to_json())
        await service.terminate("recorded")
        print("recorded parked")


def main() -> None:
    parked_only = "--parked" in sys.argv
    with tempfile.TemporaryDirectory() as state, devstack.LocalStack() as stack:
        port, ui = devstack.free_port(), devstack.free_port()
        stack.start(devstack.temporal_part(Path(state), port, ui))
        settings = Settings(temporal_address=f"127.0.0.1:{port}", task_queue="record")
        asyncio.run(record_parked(settings) if parked_only else record(settings))


if __name__ == "__main__":
    main()
