"""Integrator mode with real parts: the Slack emulator, the bot, Temporal, the worker's
real stages, the local Docker target and the machine's RabbitMQ. One service publishes
its orders, another is asked to act on them, and each order becomes one shipment.

What a person checks: a consumer of a service that does not run, or does not publish the
entity, or of an event that cannot fill its row, is refused in plain words saying what to
do; once the publisher's next version publishes, a consumer that does not name it is asked
which service has the orders (a button for each that publishes them), goes live through
its gate, and orders made at the publisher's address show up as shipments at the
consumer's.
"""

from __future__ import annotations

import httpx
import pytest

from activities.deploy_targets.local import LocalDocker
from activities.deploy_targets.local_router import LocalRouter
from testkit.chat import letters
from testkit.waiting import eventually
from tests.end_to_end.test_optimize import SLOW, slack_and_worker
from workflows.stage_models import TeardownInput


@pytest.fixture()
async def integrate_stack(client, settings, docker_ready):
    async with slack_and_worker(client, settings) as (chat, local):
        yield chat, local


async def go_live(chat, ts: str) -> None:
    card = await chat.card(ts, "waiting for approval", timeout=SLOW)
    await chat.click("U0BOB", card["ts"], "approve")
    await chat.wait_for(ts, lambda r: "is live in *staging*" in r["text"], timeout=180)


async def test_orders_one_service_publishes_become_shipments_in_another(integrate_stack):
    chat, settings = integrate_stack
    n = letters()
    orders, shipping = f"ord{n}-api", f"ship{n}-api"
    consumer = (
        f"<@U0SHIPMATE> build {shipping} with sqlite: shipments have carrier (optional) "
        f"and status (default pending). When an order is created in {orders}, create a "
        "shipment."
    )
    try:
        assert f"{orders} isn't a service I run" in await _answer(chat, consumer)

        first = await chat.say(
            "U0ALICE", f"<@U0SHIPMATE> build {orders} with sqlite: orders have item and qty int"
        )
        await go_live(chat, first)
        said = await _answer(chat, consumer)
        assert f"{orders} doesn't publish Order changes yet" in said

        await chat.say(
            "U0ALICE", "<@U0SHIPMATE> publish order changes to RabbitMQ", thread_ts=first
        )
        change = await chat.card(first, "v2: waiting for approval", timeout=SLOW)
        await chat.click("U0BOB", change["ts"], "approve")
        await chat.wait_for(first, lambda r: "v2 is live in *staging*" in r["text"], timeout=180)
        needy = consumer.replace("status (default pending)", "status")
        assert "Each Shipment needs status, which Order events" in await _answer(chat, needy)
        elsewhere = consumer.replace("with sqlite:", "with sqlite, deploy to prod:")
        said = await _answer(chat, elsewhere)
        assert f"{orders} runs in staging, and {shipping} would run in prod" in said
        # the publisher left unsaid: a button for each service publishing orders
        ts = await chat.say("U0ALICE", consumer.replace(f" in {orders}", ""))
        asked = await chat.wait_for(ts, lambda r: r["text"].startswith("Before I start"))
        assert "Which service's Order created events should make a Shipment?" in asked["text"]
        buttons = {e["value"]: e["action_id"] for e in _buttons(asked)}
        await chat.click("U0ALICE", asked["ts"], buttons[f"order events from {orders}"])
        await go_live(chat, ts)

        router = LocalRouter(settings)
        made = []
        async with httpx.AsyncClient(base_url=router.address(orders, "staging")) as web:
            for qty in range(1, 21):
                answer = await web.post("/orders", json={"item": "tea", "qty": qty})
                assert answer.status_code == 201, answer.text
                made.append(answer.json()["id"])

        async def shipped() -> bool:
            async with httpx.AsyncClient(base_url=router.address(shipping, "staging")) as web:
                listed = (await web.get("/shipments", params={"limit": 100})).json()
            return sorted(s["order_id"] for s in listed) == sorted(made) and all(
                s["status"] == "pending" for s in listed
            )

        await eventually(shipped, timeout=60, what="a shipment per order")
    finally:
        for service in (shipping, orders):
            LocalDocker().tear_down(
                settings, TeardownInput(service=service, environment="staging"), heartbeat=print
            )


def _buttons(message: dict) -> list[dict]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def _answer(chat, text: str) -> str:
    asked = await chat.say("U0ALICE", text)
    return (await chat.wait_for(asked, lambda r: r["user"] == "U0SHIPMATE"))["text"]
