"""Payload keys rotate without losing a history, and a key never shows.

A team rotates by putting a new key first in SHIPMATE_PAYLOAD_KEYS and keeping the old
one after it: what was written before must still open, what is written after must be
under the new key. A payload under a key nobody has any more must say which key id
is missing (never a key), so the person knows which old key to put back. Everything
goes through `shipmate.temporal.data_converter`, the converter every client and
worker is given.
"""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from shipmate.payload_codec import PayloadKeyError, new_key
from shipmate.settings import Settings, SettingsError, load_settings
from shipmate.temporal import data_converter
from tests.workflows.test_replay import HISTORIES, read
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import ChangeRequest
from workflows.outbox_workflow import SlackOutbox
from workflows.service_workflow import ServiceWorkflow

OLD, NEW = new_key("k2024"), new_key("k2025")


def converter(*keys: str):
    return data_converter(Settings(payload_keys=SecretStr(",".join(keys))))


def secret_of(entry: str) -> str:
    return entry.partition(":")[2]


def change(text: str) -> ChangeRequest:
    return ChangeRequest(request_text=text, requester="U0ALICE")


async def test_payloads_written_under_the_old_key_open_once_it_is_second():
    """Before the rotation: sealed with the old key. After it (new key first, old one
    kept): the old payload still opens, and new ones are sealed with the new key."""
    before = await converter(OLD).encode([change("build an orders api with stripe keys")])
    assert before[0].metadata["encryption-key-id"] == b"k2024"

    rotated = converter(NEW, OLD)
    (opened,) = await rotated.decode(before, [ChangeRequest])
    assert opened.request_text == "build an orders api with stripe keys"

    after = await rotated.encode([change("add a status field to orders")])
    assert after[0].metadata["encryption-key-id"] == b"k2025"
    assert after[0].metadata["encoding"] == b"binary/encrypted"
    assert b"status field" not in after[0].data
    # the new key alone reads what came after the rotation, not what came before
    (later,) = await converter(NEW).decode(after, [ChangeRequest])
    assert later.request_text == "add a status field to orders"


async def test_a_payload_under_an_unknown_key_names_the_key_id_and_never_a_key():
    """Once the old key is dropped, its payloads say which key id to put back."""
    before = await converter(OLD).encode([change("build a payroll api")])
    with pytest.raises(PayloadKeyError) as refused:
        await converter(NEW).decode(before, [ChangeRequest])
    message = str(refused.value)
    assert "key id 'k2024'" in message
    assert "SHIPMATE_PAYLOAD_KEYS" in message
    for entry in (OLD, NEW):
        assert secret_of(entry) not in message


async def test_a_payload_relabelled_or_altered_does_not_open():
    """The key id is sealed with the payload: moving a payload to another id under the
    same key, or changing a byte, is refused, not read as garbage."""
    same_secret_other_id = "k2026:" + secret_of(OLD)
    (sealed,) = await converter(OLD).encode([change("build a todo api")])
    relabelled = Payload(metadata={**sealed.metadata, "encryption-key-id": b"k2026"})
    relabelled.data = sealed.data
    with pytest.raises(PayloadKeyError, match="key id 'k2026' does not open"):
        await converter(same_secret_other_id).decode([relabelled], [ChangeRequest])

    flipped = bytearray(sealed.data)
    flipped[-1] ^= 1
    altered = Payload(metadata=sealed.metadata, data=bytes(flipped))
    with pytest.raises(PayloadKeyError, match="altered"):
        await converter(OLD).decode([altered], [ChangeRequest])


async def test_plain_payloads_from_before_encryption_still_open():
    """Turning encryption on keeps every running delivery readable: what was written
    before the key was set passes through unchanged."""
    plain = await data_converter(Settings()).encode([change("build a notes api")])
    assert plain[0].metadata["encoding"] == b"json/plain"
    (opened,) = await converter(NEW).decode(plain, [ChangeRequest])
    assert opened.request_text == "build a notes api"


async def test_kept_histories_recorded_without_a_key_replay_on_a_worker_with_one():
    """Deliveries in flight when a team turns encryption on continue on the new workers:
    every kept history replays with the encrypting converter."""
    replayer = Replayer(
        workflows=[DeliveryWorkflow, ServiceWorkflow, SlackOutbox],
        data_converter=converter(NEW, OLD),
    )
    for path in HISTORIES:
        history = WorkflowHistory.from_json(path.name, read(path))
        await replayer.replay_workflow(history)  # raises on non-determinism or a bad payload


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("k1", "entry 1 is not id:base64key"),
        ("k1:not base64!", "key 'k1' is not base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "key 'k1' is 5 bytes"),
        (f"{NEW},{NEW}", "key id 'k2025' is given twice"),
    ],
)
def test_a_malformed_key_setting_is_one_line_that_does_not_repeat_it(value, says):
    with pytest.raises(SettingsError) as refused:
        load_settings(payload_keys=value)
    message = str(refused.value)
    assert message.startswith("SHIPMATE_PAYLOAD_KEYS: ")
    assert says in message
    assert secret_of(NEW) not in message and "not base64!" not in message


def test_the_keys_never_show_in_the_settings_or_the_codec():
    settings = load_settings(payload_keys=f"{NEW},{OLD}")
    codec = data_converter(settings).payload_codec
    for shown in (repr(settings), str(settings), repr(codec), settings.model_dump_json()):
        assert secret_of(NEW) not in shown and secret_of(OLD) not in shown
    assert codec.key_ids == ["k2025", "k2024"]
