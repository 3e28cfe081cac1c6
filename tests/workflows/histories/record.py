"""Record workflow histories for the replay test (tests/workflows/test_replay.py).

    python -m tests.workflows.histories.record           # the re-recordable ones, all
    python -m tests.workflows.histories.record NAME...   # only these fixtures (or groups)
    python -m tests.workflows.histories.record --overwrite NAME  # a kept one, again

Two kinds of fixture live here:

- `delivery_<scenario>` and `service_<scenario>` (succeeded, retried, cancelled,
  expired): fake stages and a fake notify. Re-record them after a deliberate change to
  workflow code (one that running deliveries may break is what the replay test exists
  to catch), then commit the new JSON files.
- Kept fixtures, recorded once from the production path and never again: `parked_*`
  (group `parked`: a delivery left at its prod gate), `production_*` and `slack_outbox*`
  (group `production`: a spec given, staging and prod, both gates approved from the
  card's buttons through the real bot, the real notify activity and SlackOutbox against
  the Slack emulator, the service and the outbox each through a continue-as-new). They
  stand for runs already in flight, so a workflow change must keep replaying them
  (workflow.patched); the recorder refuses to overwrite one without --overwrite.
- Kept fixtures of every path (group `paths`, `path_*`: roll back, tear down, a reminder,
  an expiry, a cancel, a retry, a service run with several deliveries, a service and an
  outbox each continued as new): record_paths.py says how each is driven.

Record from the code the fixtures stand for (e.g. a worktree of the commit, with its
directory on PYTHONPATH), not from a working tree with a change in progress.
"""

from __future__ import annotations

import asyncio
import gzip
import sys
import tempfile
import uuid
from pathlib import Path

from temporalio.client import WorkflowHandle

from cli import devstack
from shipmate import delivery_client
from shipmate.settings import EnvironmentPolicy, Settings
from shipmate.temporal import connect
from testkit.fake_stages import Script, on_every_queue
from tests.workflows.histories import slack_steps
from tests.workflows.histories.record_paths import PATHS, record_paths
from understanding import parse_request
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import DeliveryState
from workflows.service_workflow import ServiceWorkflow

HERE = Path(__file__).parent
SCENARIOS = ("succeeded", "retried", "cancelled", "expired")
GROUPS = {
    "basic": [f"{kind}_{s}" for s in SCENARIOS for kind in ("delivery", "service")],
    "parked": ["parked_delivery", "parked_service"],
    "production": [
        "production_delivery",
        "production_service",
        "production_service_continued",
        "slack_outbox",
        "slack_outbox_continued",
    ],
    "paths": list(PATHS),  # every path of issue 28: see record_paths.py
}
KEPT = ("parked", "production", "paths")  # the groups recorded once, never re-recorded
# The service entity continues as new once a delivery has taken its history past this
# (ServiceState.history_limit, 2000 by default): lowered so that one delivery does it.
SERVICE_HISTORY_LIMIT = 50
OUTBOX_HISTORY_LIMIT = 5000  # SlackOutbox continues as new past this (not an input)


class Fixtures:
    """Writes only the fixtures asked for."""

    def __init__(self, wanted: set[str]):
        self.wanted = wanted

    def wants(self, *names: str) -> bool:
        return bool(self.wanted & set(names))

    async def save(self, name: str, handle: WorkflowHandle) -> None:
        if name in self.wanted:
            history = await handle.fetch_history()
            zipped = HERE / f"{name}.json.gz"  # a long one is kept gzipped: it stays so
            if zipped.exists():
                zipped.write_bytes(gzip.compress(history.to_json().encode()))
            else:
                (HERE / f"{name}.json").write_text(history.to_json())
            print(f"recorded {name}: {len(history.events)} events")


async def record(settings: Settings, fixtures: Fixtures) -> None:
    client = await connect(settings)
    script = Script(settings=settings)
    async with on_every_queue(
        client,
        task_queue=settings.task_queue,
        workflows=[ServiceWorkflow, DeliveryWorkflow],
        activities=script.activities(),
    ):
        for scenario in SCENARIOS:
            if not fixtures.wants(f"delivery_{scenario}", f"service_{scenario}"):
                continue
            local = settings
            if scenario == "expired":
                policy = EnvironmentPolicy(timeout_hours=1 / 3600)
                local = settings.model_copy(update={"approval_policies": {"staging": policy}})
            if scenario == "retried":
                script.fail["test_service"] = 1
            spec = parse_request("build a todo api").spec
            spec = spec.model_copy(update={"name": f"{scenario}-{uuid.uuid4().hex[:4]}"})
            ticket = await delivery_client.request_change(
                client, local, "build a todo api", spec, "U0ALICE"
            )
            handle = client.get_workflow_handle(ticket.delivery_id)

            async def wait_for(predicate, handle=handle):
                while True:
                    status = await delivery_client.delivery_status(handle)
                    if status and predicate(status):
                        return status
                    await asyncio.sleep(0.2)

            if scenario == "retried":
                await wait_for(lambda s: s.state == DeliveryState.failed)
                await delivery_client.retry(client, handle.id, "U0ALICE")
            if scenario == "cancelled":
                await wait_for(lambda s: any(g.state == "open" for g in s.gates))
                await delivery_client.cancel(client, handle.id, "U0ALICE", "changed my mind")
            elif scenario != "expired":
                await wait_for(lambda s: any(g.state == "open" for g in s.gates))
                await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
            await wait_for(lambda s: True)
            await handle.result()
            await fixtures.save(f"delivery_{scenario}", handle)
            service = client.get_workflow_handle(f"service/{spec.name}")
            await fixtures.save(f"service_{scenario}", service)


async def record_parked(settings: Settings, fixtures: Fixtures) -> None:
    """The production path, left parked: a spec given, two environments, a Slack thread,
    staging approved, the prod gate open. Its histories are recorded once and never
    again, so a code change that would strand deliveries waiting at a gate fails replay."""
    client = await connect(settings)
    script = Script(settings=settings)
    async with on_every_queue(
        client,
        task_queue=settings.task_queue,
        workflows=[ServiceWorkflow, DeliveryWorkflow],
        activities=script.activities(),
    ):
        spec = parse_request("build a todo api, deploy to staging then prod").spec
        spec = spec.model_copy(update={"name": f"parked-{uuid.uuid4().hex[:4]}"})
        ticket = await delivery_client.request_change(
            client, settings, "build a todo api", spec, "U0ALICE", channel="C0DEV", thread_ts="1.1"
        )
        handle = client.get_workflow_handle(ticket.delivery_id)

        async def gate_open(env: str) -> None:
            while True:
                status = await delivery_client.delivery_status(handle)
                if status and any(g.environment == env and g.state == "open" for g in status.gates):
                    return
                await asyncio.sleep(0.2)

        await gate_open("staging")
        await delivery_client.decide(client, handle.id, "U0BOB", "staging", approve=True)
        await gate_open("prod")
        await asyncio.sleep(1)  # the card edit for the open gate lands in history too
        await fixtures.save("parked_delivery", handle)
        service = client.get_workflow_handle(f"service/{spec.name}")
        await fixtures.save("parked_service", service)
        await service.terminate("recorded")


async def record_production(settings: Settings, fixtures: Fixtures) -> None:
    """The production path end to end, as people use it: alice asks the bot in a channel
    for a service in staging and prod (the spec planned in the conversation), bob
    approves each gate with the card's button, the real notify activity hands the card
    and the thread's news to the channel's SlackOutbox, which posts them to the Slack
    emulator. Stages are scripted (testkit.fake_stages); everything else is the real thing.

    The service entity is started (as update-with-start would) with a lowered history
    limit, so it continues as new after each delivery; the outbox is fed private replies
    until it continues as new at its own limit, with a second delivery parked at its
    staging gate, whose card is then edited by the continued run."""
    from concurrent.futures import ThreadPoolExecutor

    from pydantic import SecretStr

    from shipmate.outbox_client import enqueue
    from slack_emulator.server import EmulatorConfig, EmulatorServer
    from testkit.chat import TOKENS, Chat, letters, start_bot
    from testkit.fake_stages import worker_with_slack
    from testkit.waiting import eventually
    from understanding import understand
    from workflows.models import ServiceState
    from workflows.outbox_messages import OutgoingMessage
    from workflows.outbox_workflow import outbox_id
    from workflows.service_workflow import service_workflow_id

    emulator = await EmulatorServer(EmulatorConfig(port=0)).start()
    local = settings.model_copy(
        update={
            "task_queue": "record-production",
            "slack_bot_token": SecretStr(TOKENS["bot"]),
            "slack_app_token": SecretStr(TOKENS["app"]),
            "slack_api_url": f"{emulator.base_url}/api/",
            "openai_api_key": None,  # the offline parser: the same spec every time
            "developers": ["U0ALICE", "U0BOB"],  # as under `shipmate dev`
        }
    )
    client = await connect(local)
    chat = Chat(emulator)
    asked = f"<@U0SHIPMATE> build a quay{letters()} api, deploy it to staging and prod"
    name = understand(local, [asked]).spec.name
    service = await client.start_workflow(
        ServiceWorkflow.run,
        ServiceState(name=name, history_limit=SERVICE_HISTORY_LIMIT),
        id=service_workflow_id(name),
        task_queue=local.task_queue,
    )
    outbox = client.get_workflow_handle(outbox_id(local.task_queue, "C0GENERAL"))
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with worker_with_slack(client, local, Script(), executor):
            bot = await start_bot(local, emulator)
            try:
                first = await slack_steps.deliver_from_slack(client, chat, asked)
                await slack_steps.settled(outbox, eventually)
                await fixtures.save("production_delivery", first)
                service_runs = [service.first_execution_run_id]
                service_runs.append(
                    await slack_steps.continued(client, service.id, service_runs[-1])
                )
                await fixtures.save(
                    "production_service", slack_steps.run_of(client, service.id, service_runs[0])
                )

                # The next version, parked at staging while the outbox rolls over.
                second_ts, second = await slack_steps.ask(client, chat, asked)
                await slack_steps.approve(client, chat, second, second_ts, "staging", click=False)
                await slack_steps.settled(outbox, eventually)
                outbox_runs = [(await outbox.describe()).run_id]
                sent = 0
                # It continues as new when its queue drains past OUTBOX_HISTORY_LIMIT events.
                while (await outbox.describe()).run_id == outbox_runs[0]:
                    for _ in range(100):
                        await enqueue(
                            client,
                            local.task_queue,
                            OutgoingMessage(
                                key=f"{second.id}/note/{sent}",
                                channel="C0GENERAL",
                                thread_ts=second_ts,
                                text=f"Noted ({sent}).",
                                private_to="U0CAROL",
                            ),
                        )
                        sent += 1
                    await slack_steps.settled(outbox, eventually, timeout=600)
                outbox_runs.append(await slack_steps.continued(client, outbox.id, outbox_runs[-1]))
                print(f"the outbox continued as new after {sent} private replies")
                await fixtures.save(
                    "slack_outbox", slack_steps.run_of(client, outbox.id, outbox_runs[0])
                )

                await slack_steps.finish(client, chat, second, second_ts)
                await slack_steps.continued(client, service.id, service_runs[-1])
                continued = slack_steps.run_of(client, service.id, service_runs[-1])
                await fixtures.save("production_service_continued", continued)
                await slack_steps.settled(outbox, eventually)
                rolled = slack_steps.run_of(client, outbox.id, outbox_runs[-1])
                await fixtures.save("slack_outbox_continued", rolled)
                await client.get_workflow_handle(outbox.id).terminate("recorded")
            finally:
                await bot.close_async()
                await emulator.stop()


def wanted_fixtures(args: list[str]) -> tuple[dict[str, set[str]], list[str]]:
    """The fixtures asked for, by group; and the kept ones that would be overwritten."""
    overwrite = "--overwrite" in args
    names = [a for a in args if not a.startswith("--")]
    if "--parked" in args:  # the old spelling
        names.append("parked")
    names = names or ["basic"]
    every = {name: group for group, members in GROUPS.items() for name in members}
    asked: dict[str, set[str]] = {}
    for name in names:
        if name in GROUPS:
            asked.setdefault(name, set()).update(GROUPS[name])
        elif name in every:
            asked.setdefault(every[name], set()).add(name)
        else:
            sys.exit(f"no such fixture or group: {name} (known: {', '.join([*GROUPS, *every])})")
    refused = [
        name
        for group in KEPT
        for name in sorted(asked.get(group, ()))
        if list(HERE.glob(f"{name}.json*")) and not overwrite
    ]
    return asked, refused


def main() -> None:
    asked, refused = wanted_fixtures(sys.argv[1:])
    if refused:
        sys.exit(
            f"refusing to overwrite kept fixtures: {', '.join(refused)}. They stand for runs "
            "already in flight; guard the workflow change with workflow.patched instead, "
            "or pass --overwrite if these really must be recorded again."
        )
    code = Path(sys.modules[DeliveryWorkflow.__module__].__file__).parents[1]
    print(f"recording from the workflow code in {code}")
    recorders = {
        "basic": record,
        "parked": record_parked,
        "production": record_production,
        "paths": record_paths,
    }
    with tempfile.TemporaryDirectory() as state, devstack.LocalStack() as stack:
        port, ui = devstack.free_port(), devstack.free_port()
        stack.start(devstack.temporal_part(Path(state), port, ui))
        settings = Settings(
            temporal_address=f"127.0.0.1:{port}",
            temporal_ui_port=ui,
            task_queue="record",
            state_dir=Path(state),
            developers=["*"],  # since rules-from-worker, the worker's settings say who may ask
        )

        async def run() -> None:
            for group, names in asked.items():
                await recorders[group](settings, Fixtures(names))

        asyncio.run(run())


if __name__ == "__main__":
    main()
