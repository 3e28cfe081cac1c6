"""How the recorder drives a run the way people do: ask in the emulator, click Approve on
the card, wait for the thread and the outbox to settle (tests/workflows/histories/record.py)."""

from __future__ import annotations

import asyncio

from temporalio.client import Client, WorkflowHandle

from shipmate import delivery_client
from workflows.models import DeliveryState


def run_of(client: Client, workflow_id: str, run_id: str) -> WorkflowHandle:
    return client.get_workflow_handle(workflow_id, run_id=run_id)


async def continued(client: Client, workflow_id: str, run_id: str) -> str:
    """The id of the run `run_id` continued as new into, once it has."""
    from testkit.waiting import eventually

    async def next_run():
        current = (await client.get_workflow_handle(workflow_id).describe()).run_id
        return current if current != run_id else None

    return await eventually(next_run, timeout=120, what=f"{workflow_id} to continue as new")


async def settled(outbox: WorkflowHandle, eventually, timeout: float = 120) -> None:
    """Nothing waiting in the outbox for a few seconds: the last send has finished too."""

    async def quiet():
        if await outbox.query("waiting") != 0:
            return False
        await asyncio.sleep(3)
        return await outbox.query("waiting") == 0

    await eventually(quiet, timeout=timeout, interval=0.5, what="the outbox to settle")


async def ask(client: Client, chat, asked: str) -> tuple[str, WorkflowHandle]:
    """Alice asks; a service that exists already she answers she means to change."""
    ts = await chat.say("U0ALICE", asked)
    answer = await chat.wait_for(ts, lambda r: "`delivery/" in r["text"] or "`change " in r["text"])
    if "`delivery/" not in answer["text"]:
        change = answer["text"].split("`change ")[1].split("`")[0]
        await chat.say("U0ALICE", f"change {change}", thread_ts=ts)
        answer = await chat.wait_for(ts, lambda r: "`delivery/" in r["text"])
    delivery_id = answer["text"].split("`delivery/")[1].split("`")[0]
    return ts, client.get_workflow_handle(f"delivery/{delivery_id}")


async def deliver_from_slack(client: Client, chat, asked: str) -> WorkflowHandle:
    ts, handle = await ask(client, chat, asked)
    await finish(client, chat, handle, ts)
    return handle


async def finish(client: Client, chat, handle: WorkflowHandle, ts: str) -> None:
    """Bob approves staging, then prod, each from the card's button."""
    for env in ("staging", "prod"):
        await approve(client, chat, handle, ts, env)
        await chat.wait_for(ts, lambda r, env=env: f"is live in *{env}*" in r["text"])
    await handle.result()
    status = await delivery_client.delivery_status(handle)
    assert status.state == DeliveryState.succeeded, status
    await chat.wait_for(ts, lambda r: is_card(r) and "delivered" in r["text"])


def is_card(reply: dict) -> bool:
    return bool(reply.get("blocks")) and reply["blocks"][0]["type"] == "header"


async def approve(
    client: Client, chat, handle: WorkflowHandle, ts: str, env: str, click: bool = True
) -> None:
    """Once the card offers `env`'s gate, bob clicks Approve on it (the bot sends the
    workflow's approve update); with click=False, only wait for that card."""
    from slack_views.card import read_button_value
    from testkit.waiting import eventually

    async def card_offering_gate():
        status = await delivery_client.delivery_status(handle)
        if not status or not any(g.environment == env and g.state == "open" for g in status.gates):
            return None
        for reply in reversed(await chat.thread(ts)):
            if is_card(reply):
                values = [
                    e.get("value")
                    for b in reply["blocks"]
                    if b["type"] == "actions"
                    for e in b["elements"]
                ]
                wanted = (handle.id, env)
                return reply if any(v and read_button_value(v) == wanted for v in values) else None
        return None

    card = await eventually(card_offering_gate, what=f"the card offering the {env} gate")
    if not click:
        return
    clicked = await chat.click("U0BOB", card["ts"], "approve")
    assert clicked.get("ok"), clicked

    async def approved():
        status = await delivery_client.delivery_status(handle)
        return any(g.environment == env and g.state == "approved" for g in status.gates)

    await eventually(approved, what=f"the {env} gate approved")
