"""A roll back never loses data silently: what it loses is named, and only an approver
who confirms that loss lets it through.

The losses are read from the spec chain (pure); the refusals are the delivery's update
validator on the real Temporal dev server with scripted stages, so a refused approval
leaves nothing in the history.
"""

from __future__ import annotations

import pytest
from temporalio.api.enums.v1 import EventType

from shipmate import delivery_client
from shipmate.settings import EnvironmentPolicy
from tests.workflows.test_undo_deliveries import ROLL_BACK, deliver, undo
from tests.workflows.test_workflows import gate_open, unique, until
from workflows.data_loss import rollback_losses
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import DeliveryState
from workflows.spec import Auth, EntitySpec, FieldSpec, RelationSpec, ServiceSpec

NOTE = EntitySpec(name="Note", fields=[FieldSpec(name="title"), FieldSpec(name="body")])
TAG = EntitySpec(name="Tag", fields=[FieldSpec(name="label")])


def version(spec: ServiceSpec, number: int, *entities: EntitySpec, **more) -> ServiceSpec:
    return spec.model_copy(update={"version": number, "entities": list(entities), **more})


V1 = ServiceSpec(name="notes-api", entities=[NOTE, TAG])


def test_a_chain_that_only_adds_nothing_is_lost_going_forward_but_named_going_back():
    with_pin = NOTE.model_copy(update={"fields": [*NOTE.fields, FieldSpec(name="pinned")]})
    v2 = version(V1, 2, with_pin, TAG)
    assert rollback_losses([V1, v2]) == ["v2 added notes.pinned: it goes, with its values"]
    assert rollback_losses([V1, V1.model_copy(update={"version": 2})]) == []


def test_each_kind_of_loss_is_named_with_the_version_that_caused_it():
    no_body = NOTE.model_copy(
        update={
            "fields": [FieldSpec(name="title"), FieldSpec(name="views", type="int")],
            "relations": [RelationSpec(name="author", target="Author")],
        }
    )
    author = EntitySpec(name="Author", fields=[FieldSpec(name="name")])
    v2 = version(V1, 2, no_body, TAG)  # drops body, adds views and author_id (and Author)
    v3 = version(V1, 3, no_body, author, auth=Auth.jwt)  # drops Tag, adds sign-in
    typed = no_body.model_copy(
        update={"fields": [FieldSpec(name="title", type="text"), no_body.fields[1]]}
    )
    v4 = version(V1, 4, typed, author, auth=Auth.jwt)

    assert rollback_losses([V1, v2, v3, v4]) == [
        "v3 added sign-in: the accounts table goes, with every account",
        "v2 dropped notes.body: its values cannot come back",
        "notes.title goes back from text to str: values that do not fit are converted",
        "v2 added notes.views: it goes, with its values",
        "v2 added notes.author_id: it goes, with its values",
        "v3 dropped the tags table: its rows cannot come back",
        "v3 added the authors table: it goes, with its rows",
    ]
    # a column that went and came back loses its old values and its new ones
    again = version(V1, 5, NOTE, TAG)
    assert rollback_losses([V1, v2, v3, v4, again]) == [  # v5 signs in no more: no accounts
        "v2 dropped notes.body: its values cannot come back",
        "notes.title goes back from str to text to str: values that do not fit are converted",
        "v5 added notes.body: it goes, with its values",
        "v3 dropped the tags table: its rows cannot come back",
        "v5 added the tags table: it goes, with its rows",
    ]
    # and going back from sign-in to none keeps nothing of the accounts
    assert rollback_losses([v3, version(V1, 4, no_body, author)])[0] == (
        "v4 dropped sign-in: its accounts cannot come back"
    )


async def two_versions(client, settings, v2_fields):
    text, spec = unique("build a notes api")
    spec = spec.model_copy(update={"entities": [NOTE]})
    await deliver(client, settings, text, spec)
    v2 = spec.model_copy(update={"entities": [NOTE.model_copy(update={"fields": v2_fields})]})
    await deliver(client, settings, "change the notes", v2)
    return spec


async def test_a_plain_approval_of_a_lossy_roll_back_is_refused_and_leaves_no_trace(client, fake):
    script, settings = fake
    spec = await two_versions(client, settings, [FieldSpec(name="title")])
    ticket = await undo(client, settings, ROLL_BACK, spec.name)
    handle = client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)
    waiting = await until(handle, gate_open("staging"))
    assert waiting.data_loss == ["v2 dropped notes.body: its values cannot come back"]

    with pytest.raises(delivery_client.DecisionRefused) as refused:
        await delivery_client.decide(client, ticket.delivery_id, "U0BOB", "staging", approve=True)
    assert str(refused.value) == (
        f"rolling {spec.name} back in staging loses data: v2 dropped notes.body: its values "
        "cannot come back. That data cannot come back: restore a backup instead, or approve "
        "with the button that names the loss (or `shipmate approve … --accept-data-loss`)"
    )
    # someone not allowed hears that first, whatever they confirm
    with pytest.raises(delivery_client.DecisionRefused, match="not allowed to approve"):
        await delivery_client.decide(
            client, ticket.delivery_id, "U0CAROL", "staging", approve=True, accepts_data_loss=True
        )
    kinds = [event.event_type async for event in handle.fetch_history_events()]
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED not in kinds
    assert script.deployed[-1].version == 2  # v2 keeps serving

    gate = await delivery_client.decide(
        client, ticket.delivery_id, "U0BOB", "staging", approve=True, accepts_data_loss=True
    )
    assert gate.state == "approved"
    final = await handle.result()
    assert final.state == DeliveryState.succeeded
    rollback = script.deployed[-1]
    assert (rollback.version, rollback.migrate_down_with) == (1, f"{spec.name}:v2")
    assert final.audit[-1].user == "U0BOB"


async def test_a_roll_back_that_loses_nothing_needs_no_confirmation(client, fake):
    script, settings = fake
    spec = await two_versions(client, settings, [FieldSpec(name="title"), FieldSpec(name="body")])
    ticket = await undo(client, settings, ROLL_BACK, spec.name)
    handle = client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)
    assert (await until(handle, gate_open("staging"))).data_loss == []
    await delivery_client.decide(client, ticket.delivery_id, "U0BOB", "staging", approve=True)
    assert (await handle.result()).state == DeliveryState.succeeded


async def test_without_a_gate_a_lossy_roll_back_is_refused_outright(client, fake):
    script, gated = fake
    text, spec = unique("build a notes api")
    spec = spec.model_copy(update={"entities": [NOTE]})
    for change in (spec, spec.model_copy(update={"entities": [TAG]})):
        await deliver(client, gated, text, change)  # v2 drops notes, confirmed at its gate
    # then staging's gate is switched off: a roll back's loss can be confirmed by nobody
    open_staging = {"staging": EnvironmentPolicy(gate=False)}
    settings = script.settings = gated.model_copy(update={"approval_policies": open_staging})

    ticket = await undo(client, settings, ROLL_BACK, spec.name)
    handle = client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)
    failed = await until(handle, lambda s: s.state == DeliveryState.failed)
    assert failed.error.startswith(f"rolling {spec.name} back in staging loses data: ")
    assert "v2 dropped the notes table: its rows cannot come back" in failed.error
    assert "restore a backup instead" in failed.error
    assert script.deployed[-1].version == 2
