"""With SHIPMATE_PAYLOAD_KEYS set, Temporal stores nothing of a delivery a person wrote.

Whoever can read the Temporal database (an operator, a backup, the Web UI without the
codec server) must not find the Slack text, the spec or a failed stage's log tail in a
history. The delivery runs on the real dev server through `shipmate.temporal.connect`
with a key, as every worker, bot and command line does; its history is then read raw,
as Temporal holds it, and again through the codec.
"""

from __future__ import annotations

import json
import uuid

from google.protobuf.descriptor import FieldDescriptor
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer

from shipmate import delivery_client
from shipmate.payload_codec import new_key
from shipmate.temporal import connect
from testkit.fake_stages import Script, on_every_queue
from testkit.waiting import eventually
from understanding import parse_request
from workflows import activity_contracts as contracts
from workflows import patches
from workflows.activity_contracts import implements
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import DeliveryState
from workflows.service_workflow import ServiceWorkflow
from workflows.stage_models import ScaffoldResult
from workflows.stage_models import TestReport as Passed

# Fields Temporal must read itself: what deliveries are listed by (the service's name,
# its state) and the tracing context. Neither holds what a person wrote.
UNSEALED_FIELDS = {"search_attributes", "header"}
PATCH_NAMES = {value for name, value in vars(patches).items() if name.isupper()}


def payloads_in(message, where: str = "") -> list[tuple[str, Payload]]:
    """Every payload in a history event, with the path of fields that leads to it."""
    if isinstance(message, Payload):
        return [(where, message)]
    found = []
    for field, value in message.ListFields():
        if field.name in UNSEALED_FIELDS or field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        path = f"{where}.{field.name}"
        if field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["value"].type == FieldDescriptor.TYPE_MESSAGE:
                for key, item in value.items():
                    found += payloads_in(item, f"{path}[{key}]")
        elif field.is_repeated:
            for index, item in enumerate(value):
                found += payloads_in(item, f"{path}[{index}]")
        else:
            found += payloads_in(value, path)
    return found


def stages_whose_tests_fail_once(log_tail: str, settings) -> list:
    """The scripted stages, but the first test run fails with this log tail, as pytest's
    output would reach the thread."""
    runs = []

    @implements(contracts.test_service)
    async def test_service(scaffold: ScaffoldResult) -> Passed:
        runs.append(scaffold.service)
        if len(runs) == 1:
            raise ApplicationError("1 of 5 tests failed", log_tail, non_retryable=True)
        return Passed(passed=5, failed=0, duration_seconds=0.1)

    scripted = [a for a in Script(settings=settings).activities() if a.__name__ != "test_service"]
    return [*scripted, test_service]


async def test_a_delivery_leaves_no_readable_text_spec_or_log_tail_in_its_history(
    client: Client, settings
):
    """A delivery with a failed and retried test stage, approved at its gate: every
    payload of its history and its service's is sealed under the key's id, none holds the
    request, the service's name or the log tail; with the key, all of it reads back."""
    tag = uuid.uuid4().hex[:6]
    text = f"build a ledger api with a memo field, note {tag}"
    spec = parse_request(text).spec
    spec = spec.model_copy(update={"name": f"ledger-{tag}"})
    log_tail = f"FAILED tests/test_entries.py::test_memo_{tag} - assert 500 == 201"
    sealed = settings.model_copy(
        update={
            "task_queue": f"sealed-{tag}",
            "approvers": ["U0BOB"],
            "heartbeat_seconds": 5,
            "payload_keys": SecretStr(new_key("k2025")),
        }
    )
    secret_client = await connect(sealed)  # the one place every client is made
    worker = on_every_queue(
        secret_client,
        task_queue=sealed.task_queue,
        workflows=[ServiceWorkflow, DeliveryWorkflow],
        activities=stages_whose_tests_fail_once(log_tail, sealed),
    )
    async with worker:
        ticket = await delivery_client.request_change(
            secret_client, sealed, text, spec, "U0ALICE", channel="C0DEV", thread_ts="1.0001"
        )
        handle = secret_client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)

        async def reached(predicate):
            status = await delivery_client.delivery_status(handle)
            return status if status is not None and predicate(status) else None

        failed = await eventually(
            lambda: reached(lambda s: s.state == DeliveryState.failed), what="failed tests"
        )
        assert failed.log_tail == log_tail  # what the thread shows, through the codec
        await delivery_client.retry(secret_client, handle.id, "U0ALICE")
        await eventually(
            lambda: reached(lambda s: any(g.state == "open" for g in s.gates)), what="gate"
        )
        await delivery_client.decide(secret_client, handle.id, "U0BOB", "staging", approve=True)
        final = await handle.result()
        assert final.state == DeliveryState.succeeded

    # Read as Temporal holds it, by a client without the key.
    histories = [
        await client.get_workflow_handle(workflow_id).fetch_history()
        for workflow_id in (ticket.delivery_id, f"service/{spec.name}")
    ]
    written = [
        (event.event_id, path, payload)
        for history in histories
        for event in history.events
        for path, payload in payloads_in(event)
    ]
    assert len(written) > 20, "the delivery's inputs, results, updates and failures"
    # Temporal writes the `workflow.patched` markers itself, naming only the patch.
    markers = [p for _, path, p in written if path.endswith(".details[patch-data].payloads[0]")]
    assert {json.loads(marker.data)["id"] for marker in markers} <= PATCH_NAMES
    plain = [
        f"event {number}{path}: {payload.metadata.get('encoding')}"
        for number, path, payload in written
        if payload not in markers
        and (
            payload.metadata.get("encoding") != b"binary/encrypted"
            or payload.metadata.get("encryption-key-id") != b"k2025"
        )
    ]
    assert plain == [], "\n".join(plain)
    raw = b"".join(payload.data for _, _, payload in written)
    for readable in (text, spec.name, f"test_memo_{tag}", "memo"):
        assert readable.encode() not in raw, readable
    # nor anywhere else in the events: a failure's message travels sealed too
    everything = b"".join(e.SerializeToString() for h in histories for e in h.events)
    assert f"test_memo_{tag}".encode() not in everything
    assert text.encode() not in everything

    # With the key, the same history reads back: the request, the spec, the log tail …
    opened = await secret_client.data_converter.payload_codec.decode(
        [payload for _, _, payload in written]
    )
    readable = b"".join(payload.data for payload in opened)
    for wanted in (text, spec.name, f"test_memo_{tag}"):
        assert wanted.encode() in readable, wanted
    # … and the workflow code replays it, as a worker restarting mid-delivery would.
    replayer = Replayer(
        workflows=[DeliveryWorkflow, ServiceWorkflow],
        data_converter=secret_client.data_converter,
    )
    await replayer.replay_workflow(histories[0])
