"""Record the kept histories of every path (issue 28): `path_*.json` in this folder.

    python -m tests.workflows.histories.record paths             # all, where none is kept yet
    python -m tests.workflows.histories.record --overwrite path_rollback   # one, again

Kept fixtures, like `parked_*` and `production_*`: recorded once from real runs and
never re-recorded for a change in progress (guard the change with workflow.patched).
Recorded as the other fixtures are: a Temporal dev server of its own (record.py starts
it), the real ServiceWorkflow and DeliveryWorkflow with scripted stages and a scripted
notify (testkit.fake_stages.Script), the real SlackOutbox and its real sender against
the Slack emulator; no payload codec. Gates wait seconds, not hours, so a reminder and
an expiry happen while the recorder watches. What each fixture covers is PATHS below;
tests/workflows/test_replay_paths.py plants a change on each path and expects its
fixture to catch it.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor

from pydantic import SecretStr
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter

from shipmate import delivery_client
from shipmate.settings import EnvironmentPolicy, Settings
from testkit.fake_stages import Script, on_every_queue
from testkit.waiting import eventually
from understanding import parse_request
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import DeliveryState, DeliveryStatus, Operation, ServiceState
from workflows.service_workflow import ServiceWorkflow, service_workflow_id

PATHS = {
    "path_rollback": "a roll back of staging to v1, approved",
    "path_teardown": "a tear down of staging, approved",
    "path_reminder": "a gate whose reminder fired, then approved",
    "path_expired": "a gate reminded, then expired without a decision",
    "path_cancel": "a cancel while the test stage ran (the build beside it stopped)",
    "path_retry": "a build that failed, retried from the failed stage, then approved",
    "path_service_run": "one service run with four deliveries: two builds, roll back, tear down",
    "path_service_continued": "a service run that continued as new after its delivery",
    "path_service_after_continue": "the run it continued into, with one more delivery",
    "path_outbox_backlog": "an outbox run that continued as new with a backlog queued",
    "path_outbox_stashed": "an outbox run whose backlog was too big to carry: stashed in parts",
    "path_outbox_taken_back": "the run it continued into: the parts taken back, then deleted",
}
SERVICE_HISTORY_LIMIT = 20  # one delivery takes a service entity past it
OUTBOX_HISTORY_LIMIT = 60  # a burst of 30 signals takes an outbox past it
OUTBOX_BURST = 30
CHANNEL, THREAD = "C0DEV", "1.000001"


def seconds(n: float) -> float:
    return n / 3600  # the policies count hours


async def record_paths(settings: Settings, fixtures) -> None:
    """`fixtures`: record.Fixtures, which saves only the names asked for."""
    # Plain payloads, whatever codec shipmate.temporal.connect may add: the replay tests
    # read these histories without a key.
    client = await Client.connect(settings.temporal_address, data_converter=pydantic_data_converter)
    outbox_paths = [name for name in PATHS if name.startswith("path_outbox")]
    if fixtures.wants(*outbox_paths):
        await record_outbox(client, settings, fixtures)
    if not fixtures.wants(*(set(PATHS) - set(outbox_paths))):
        return
    script = Script(settings=settings)
    async with on_every_queue(
        client,
        task_queue=settings.task_queue,
        workflows=[ServiceWorkflow, DeliveryWorkflow],
        activities=script.activities(),
    ):
        # Heartbeats often enough that a cancel reaches a running stage within seconds.
        run = Runs(client, settings.model_copy(update={"heartbeat_seconds": 5}), script)
        await run.undoing(fixtures)
        await run.gates(fixtures)
        await run.cancel_and_retry(fixtures)
        await run.continued(fixtures)


class Runs:
    """Deliveries asked for as the bot asks (a Slack thread each), decided as people do."""

    def __init__(self, client: Client, settings: Settings, script: Script):
        self.client, self.settings, self.script = client, settings, script

    async def ask(self, name: str, text: str = "build a todo api", settings=None):
        spec = parse_request("build a todo api").spec.model_copy(update={"name": name})
        ticket = await delivery_client.request_change(
            self.client,
            settings or self.settings,
            text,
            spec,
            "U0ALICE",
            channel=CHANNEL,
            thread_ts=THREAD,
        )
        return self.client.get_workflow_handle(ticket.delivery_id)

    async def until(self, handle: WorkflowHandle, predicate) -> DeliveryStatus:
        async def reached():
            status = await delivery_client.delivery_status(handle)
            return status if status and predicate(status) else None

        return await eventually(reached, interval=0.2, what=f"{handle.id} to move on")

    async def approve(self, handle: WorkflowHandle) -> DeliveryStatus:
        await self.until(handle, open_gate)
        await delivery_client.decide(self.client, handle.id, "U0BOB", "staging", approve=True)
        return await self.ended(handle, DeliveryState.succeeded)

    async def ended(self, handle: WorkflowHandle, state: DeliveryState) -> DeliveryStatus:
        await handle.result()
        final = await delivery_client.delivery_status(handle)
        assert final and final.state == state, final
        return final

    async def undoing(self, fixtures) -> None:
        """Two builds, a roll back to v1 and a tear down, all in one run of the service."""
        name = f"undo-{uuid.uuid4().hex[:4]}"
        await self.approve(await self.ask(name))
        await self.service_heard(name, 1)
        await self.approve(await self.ask(name, "also add a priority field"))
        await self.service_heard(name, 2)
        for operation, fixture in (
            (Operation.roll_back, "path_rollback"),
            (Operation.tear_down, "path_teardown"),
        ):
            ticket = await delivery_client.request_undo(
                self.client,
                self.settings,
                operation,
                name,
                "staging",
                "U0ALICE",
                channel=CHANNEL,
                thread_ts=THREAD,
            )
            undo = self.client.get_workflow_handle(ticket.delivery_id)
            final = await self.approve(undo)
            assert final.operation == operation, final
            await fixtures.save(fixture, undo)
            await self.service_heard(name, 3 if operation == Operation.roll_back else 4)
        service = self.client.get_workflow_handle(service_workflow_id(name))
        await fixtures.save("path_service_run", service)
        await service.terminate("recorded")

    async def service_heard(self, name: str, ended: int) -> None:
        """The service has taken `ended` deliveries off its hands (reaped a moment after)."""
        service = self.client.get_workflow_handle(service_workflow_id(name))

        async def done():
            state = await service.query(ServiceWorkflow.describe, result_type=ServiceState)
            finished = [d for d in state.deliveries if d.state == DeliveryState.succeeded]
            return len(finished) >= ended and not state.queue

        await eventually(done, what=f"{name} to record {ended} deliveries")

    async def gates(self, fixtures) -> None:
        """A reminder that fired before the approval; a reminder and then the expiry."""
        reminded = self.policy(timeout=30, remind_before=25)
        handle = await self.ask(f"remind-{uuid.uuid4().hex[:4]}", settings=reminded)
        await self.until(handle, lambda s: any(g.reminded for g in s.gates))
        final = await self.approve(handle)
        assert final.gates[0].reminded and final.gates[0].state == "approved", final
        await fixtures.save("path_reminder", handle)
        await self.terminate_service(handle)

        expiring = self.policy(timeout=6, remind_before=3)
        handle = await self.ask(f"expire-{uuid.uuid4().hex[:4]}", settings=expiring)
        final = await self.ended(handle, DeliveryState.expired)
        assert final.gates[0].reminded and final.gates[0].state == "expired", final
        await fixtures.save("path_expired", handle)
        await self.terminate_service(handle)

    def policy(self, timeout: float, remind_before: float) -> Settings:
        staging = EnvironmentPolicy(
            timeout_hours=seconds(timeout), remind_before_hours=seconds(remind_before)
        )
        return self.settings.model_copy(update={"approval_policies": {"staging": staging}})

    async def cancel_and_retry(self, fixtures) -> None:
        script = self.script
        script.block["test_service"], before = asyncio.Event(), script.calls["test_service"]
        handle = await self.ask(f"cancel-{uuid.uuid4().hex[:4]}")
        started = lambda: script.calls["test_service"] > before  # noqa: E731
        await eventually(started, what="the test stage to start")
        await delivery_client.cancel(self.client, handle.id, "U0ALICE", "wrong database")
        final = await self.ended(handle, DeliveryState.cancelled)
        assert script.cancelled == ["test_service"], (script.cancelled, final)
        del script.block["test_service"]
        await fixtures.save("path_cancel", handle)
        await self.terminate_service(handle)

        script.fail["build_service_image"] = 1
        handle = await self.ask(f"retry-{uuid.uuid4().hex[:4]}")
        await self.until(handle, lambda s: s.state == DeliveryState.failed)
        await delivery_client.retry(self.client, handle.id, "U0ALICE")
        final = await self.approve(handle)
        assert ("U0ALICE", "retried") in [(a.user, a.decision) for a in final.audit], final
        await fixtures.save("path_retry", handle)
        await self.terminate_service(handle)

    async def continued(self, fixtures) -> None:
        """A service entity started (as update-with-start would) with a lowered history
        limit: its delivery takes it past, and it continues as new, state and all."""
        name = f"rolled-{uuid.uuid4().hex[:4]}"
        service = await self.client.start_workflow(
            ServiceWorkflow.run,
            ServiceState(name=name, history_limit=SERVICE_HISTORY_LIMIT),
            id=service_workflow_id(name),
            task_queue=self.settings.task_queue,
        )
        first_run = service.first_execution_run_id
        await self.approve(await self.ask(name))
        second_run = await next_run(self.client, service.id, first_run)
        await self.approve(await self.ask(name, "also add a priority field"))
        await next_run(self.client, service.id, second_run)
        await fixtures.save("path_service_continued", run_of(self.client, service.id, first_run))
        after = run_of(self.client, service.id, second_run)
        await fixtures.save("path_service_after_continue", after)
        await self.client.get_workflow_handle(service.id).terminate("recorded")

    async def terminate_service(self, handle: WorkflowHandle) -> None:
        name = handle.id.split("/")[1]
        await self.client.get_workflow_handle(service_workflow_id(name)).terminate("recorded")


def run_of(client: Client, workflow_id: str, run_id: str) -> WorkflowHandle:
    return client.get_workflow_handle(workflow_id, run_id=run_id)


async def next_run(client: Client, workflow_id: str, run_id: str) -> str:
    """The id of the run `run_id` continued as new into, once it has."""

    async def newer():
        current = (await client.get_workflow_handle(workflow_id).describe()).run_id
        return current if current != run_id else None

    return await eventually(newer, timeout=120, what=f"{workflow_id} to continue as new")


def open_gate(status: DeliveryStatus) -> bool:
    return any(g.environment == "staging" and g.state == "open" for g in status.gates)


async def record_outbox(client: Client, settings: Settings, fixtures) -> None:
    """A channel's outbox, its history limit lowered, given a burst of thread replies at
    once: it passes the limit while most of them still wait for Slack's pace, continues
    as new carrying them, and every reply reaches the emulator once."""
    from cli.worker import slack_activities
    from slack_emulator.server import EmulatorConfig, EmulatorServer
    from testkit.chat import TOKENS, Chat
    from workflows.outbox_workflow import SlackOutbox

    emulator = await EmulatorServer(EmulatorConfig(port=0)).start()
    local = settings.model_copy(
        update={
            "task_queue": f"record-outbox-{uuid.uuid4().hex[:4]}",
            "slack_bot_token": SecretStr(TOKENS["bot"]),
            "slack_api_url": f"{emulator.base_url}/api/",
        }
    )
    chat, tag = Chat(emulator), uuid.uuid4().hex[:6]
    try:
        with ThreadPoolExecutor(max_workers=2) as executor:
            async with on_every_queue(
                client,
                task_queue=local.task_queue,
                workflows=[SlackOutbox],
                activities=slack_activities(local),
                activity_executor=executor,
            ):
                await _burst_through_a_roll_over(client, local, chat, tag, fixtures)
                await _burst_through_a_roll_over(
                    client, local, chat, f"{tag}s", fixtures, carry_bytes=300
                )
    finally:
        await emulator.stop()


async def _burst_through_a_roll_over(client, local, chat, tag, fixtures, carry_bytes=None):
    """A burst of replies in a thread, through the outbox's continue-as-new; with
    `carry_bytes` so low that the backlog is stashed, both runs are saved."""
    from shipmate.outbox_client import enqueue
    from workflows.outbox_messages import OutboxState, OutgoingMessage
    from workflows.outbox_workflow import SlackOutbox, outbox_id

    channel = "C0GENERAL" if carry_bytes is None else "C0DEPLOYS"
    state = OutboxState(channel=channel, history_limit=OUTBOX_HISTORY_LIMIT)
    if carry_bytes is not None:
        state.carry_bytes = carry_bytes
    outbox = await client.start_workflow(
        SlackOutbox.run,
        state,
        id=outbox_id(local.task_queue, channel),
        task_queue=local.task_queue,
    )
    thread = await chat.say("U0ALICE", f"{tag} thread", channel=channel)
    for n in range(OUTBOX_BURST):
        message = OutgoingMessage(
            key=f"{tag}/{n}", channel=channel, thread_ts=thread, text=f"{tag} reply {n}"
        )
        await enqueue(client, local.task_queue, message)
    first_run = outbox.first_execution_run_id
    second_run = await next_run(client, outbox.id, first_run)

    async def all_said():
        replies = [r["text"] for r in await chat.thread(thread, channel)]
        return replies if len(replies) >= OUTBOX_BURST else None

    replies = await eventually(all_said, timeout=180, what="every reply")
    assert replies == [f"{tag} reply {n}" for n in range(OUTBOX_BURST)], replies
    if carry_bytes is None:
        await fixtures.save("path_outbox_backlog", run_of(client, outbox.id, first_run))
    else:
        await fixtures.save("path_outbox_stashed", run_of(client, outbox.id, first_run))
        await fixtures.save("path_outbox_taken_back", run_of(client, outbox.id, second_run))
    await client.get_workflow_handle(outbox.id).terminate("recorded")
