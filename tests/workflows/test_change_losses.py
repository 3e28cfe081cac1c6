"""A change that drops data says so before anyone approves it (#29 item 3). "build an
orders api with invoices", said where orders-api already runs with customers and orders,
became its next version whose migration drops both tables, and the thread said only "On
it". Now the card names each table, column or sign-in that goes, and each gate opens
only to an approver who confirms it, as a lossy roll back does."""

from __future__ import annotations

import pytest

from shipmate import delivery_client
from shipmate.settings import EnvironmentPolicy
from slack_views.card import approve_confirm, data_loss_text, gate_buttons
from tests.workflows.test_undo_deliveries import deliver
from tests.workflows.test_workflows import gate_open, unique, until
from understanding import parse_request
from workflows.data_loss import change_losses
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.models import DeliveryState, DeliveryStatus, Operation
from workflows.spec import Auth, ServiceSpec


def spec_of(text: str) -> ServiceSpec:
    spec = parse_request(text).spec
    assert spec is not None, text
    return spec


ORDERS = "build an orders api with jwt: customers have name and email; orders have total"


def test_every_kind_of_drop_is_named_and_additions_are_not():
    before = spec_of(ORDERS)
    assert change_losses(before, before) == []
    grown = spec_of(ORDERS + " and note; invoices have number")
    assert change_losses(before, grown) == []

    replaced = spec_of("build an orders api: invoices have number and amount")
    assert change_losses(before, replaced) == [
        "drops sign-in: the accounts table goes, with every account",
        "drops the customers table, with its rows",
        "drops the orders table, with its rows",
    ]
    fewer = before.model_copy(deep=True)
    fewer.entities[0].fields = [f for f in fewer.entities[0].fields if f.name != "email"]
    assert change_losses(before, fewer) == ["drops customers.email, with its values"]
    signed_out = before.model_copy(update={"auth": Auth.none})
    assert change_losses(before, signed_out)[0].startswith("drops sign-in")


async def test_a_new_request_under_a_running_name_shows_its_drops_and_needs_a_confirmation(
    client, fake
):
    script, settings = fake
    text, spec = unique(ORDERS)
    await deliver(client, settings, text, spec)
    replacing = spec_of("build an orders api: invoices have number").model_copy(
        update={"name": spec.name}
    )
    ticket = await delivery_client.request_change(
        client, settings, "build an orders api with invoices", replacing, "U0ALICE"
    )
    handle = client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)
    waiting = await until(handle, gate_open("staging"))
    assert "drops the orders table, with its rows" in waiting.data_loss
    assert "drops the customers table, with its rows" in waiting.data_loss

    with pytest.raises(delivery_client.DecisionRefused) as refused:
        await delivery_client.decide(client, ticket.delivery_id, "U0BOB", "staging", approve=True)
    assert str(refused.value).startswith(f"changing {spec.name} in staging loses data: ")
    assert "reject it and ask again" in str(refused.value)
    assert script.deployed[-1].version == 1  # v1 keeps serving

    gate = await delivery_client.decide(
        client, ticket.delivery_id, "U0BOB", "staging", approve=True, accepts_data_loss=True
    )
    assert gate.state == "approved"
    assert (await handle.result()).state == DeliveryState.succeeded
    assert script.deployed[-1].version == 2


async def test_a_change_that_drops_data_where_no_gate_could_confirm_it_is_refused(client, fake):
    script, gated = fake
    text, spec = unique("build a notes api: notes have title and body")
    await deliver(client, gated, text, spec)
    open_staging = script.settings = gated.model_copy(
        update={"approval_policies": {"staging": EnvironmentPolicy(gate=False)}}
    )
    thinner = spec.model_copy(deep=True)
    thinner.entities[0].fields = [f for f in thinner.entities[0].fields if f.name != "body"]
    ticket = await delivery_client.request_change(
        client, open_staging, "remove the body field", thinner, "U0ALICE"
    )
    handle = client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)
    failed = await until(handle, lambda s: s.state == DeliveryState.failed)
    assert failed.error.startswith(f"changing {spec.name} in staging loses data: ")
    assert "drops notes.body, with its values" in failed.error
    assert script.deployed[-1].version == 1


async def test_a_change_that_only_adds_asks_for_a_plain_approval(client, fake):
    script, settings = fake
    text, spec = unique("build a notes api: notes have title")
    await deliver(client, settings, text, spec)
    grown = spec_of("build a notes api: notes have title and body").model_copy(
        update={"name": spec.name}
    )
    ticket = await delivery_client.request_change(client, settings, "add a body", grown, "U0ALICE")
    handle = client.get_workflow_handle_for(DeliveryWorkflow.run, ticket.delivery_id)
    assert (await until(handle, gate_open("staging"))).data_loss == []
    await delivery_client.decide(client, ticket.delivery_id, "U0BOB", "staging", approve=True)
    assert (await handle.result()).state == DeliveryState.succeeded


def test_the_card_words_a_change_s_loss_as_a_change():
    status = DeliveryStatus(
        delivery_id="delivery/orders-api/2-abc123",
        requester="U0ALICE",
        service="orders-api",
        data_loss=["drops the orders table, with its rows"],
    )
    assert data_loss_text(status).startswith(":warning: *This change drops data.*")
    assert "• drops the orders table, with its rows" in data_loss_text(status)
    approve = gate_buttons(status, "staging")[0]
    assert approve.text.text == "Change staging, losing data"
    assert approve.action_id == "approve_losing_data"
    assert approve_confirm(status, "staging").to_dict()["confirm"]["text"] == "Change it, lose it"

    rolling_back = status.model_copy(update={"operation": Operation.roll_back})
    assert gate_buttons(rolling_back, "staging")[0].text.text == "Roll back staging, losing data"
