"""A service deployed to the local Docker engine publishes to the machine's RabbitMQ and
NATS from its own network, on an exchange and a stream named for its installation,
service and environment; a broker that does not answer stops the deploy, named. A
consuming service runs its consumer as a second container, replaced with each version
and gone with the service."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid

import aio_pika
import docker
import httpx
import pytest
from temporalio.testing import ActivityEnvironment

from activities.deploy_targets import DeployFailed
from activities.deploy_targets.naming import resource_name
from activities.stages import DeliveryActivities
from cli import devstack
from testkit.brokers import MACHINE_RABBITMQ, nats_stream, rabbitmq_queue
from testkit.waiting import eventually_sync
from tests.activities.test_local_deploys import LOCAL, _containers, deploy, tear_down
from workflows.event_spec import ConsumerSpec, EventSpec, Sink
from workflows.spec import Database, EntitySpec, FieldSpec, ServiceSpec
from workflows.stage_models import ScaffoldInput, TeardownInput


def shop_spec() -> ServiceSpec:
    return ServiceSpec(
        name="shop-api",
        database=Database.sqlite,
        entities=[
            EntitySpec(
                name="Order", fields=[FieldSpec(name="item"), FieldSpec(name="qty", type="int")]
            ),
            EntitySpec(name="Customer", fields=[FieldSpec(name="name")]),
        ],
        events=[
            EventSpec(entity="Order", sink=Sink.rabbitmq),
            EventSpec(entity="Customer", sink=Sink.nats),
        ],
    )


def fulfillment_spec() -> ServiceSpec:
    fields = [FieldSpec(name="order_id", type="int"), FieldSpec(name="item", required=False)]
    return ServiceSpec(
        name="fulfillment-api",
        database=Database.sqlite,
        entities=[EntitySpec(name="Fulfillment", fields=fields)],
        consumers=[
            ConsumerSpec(
                publisher="shop-api",
                entity="Order",
                sink=Sink.rabbitmq,
                creates="Fulfillment",
                link="order_id",
            )
        ],
    )


def _built(settings, tmp_path_factory, spec: ServiceSpec) -> str:
    stages = DeliveryActivities(
        settings.model_copy(update={"state_dir": tmp_path_factory.mktemp(spec.name)})
    )
    run = ActivityEnvironment().run
    scaffold = run(stages.scaffold_service, ScaffoldInput(spec=spec, request_text=""))
    return run(stages.build_service_image, scaffold).image


@pytest.fixture(scope="module")
def image(settings, docker_ready, tmp_path_factory):
    return _built(settings, tmp_path_factory, shop_spec())


@pytest.fixture(scope="module")
def consumer_image(settings, docker_ready, tmp_path_factory):
    return _built(settings, tmp_path_factory, fulfillment_spec())


def deploy_shop(settings, service: str, image: str):
    return deploy(settings, service, image, 1, Database.sqlite, event_sinks=["nats", "rabbitmq"])


async def test_a_deployed_service_publishes_to_both_brokers_under_its_own_names(settings, image):
    service = f"shop-{uuid.uuid4().hex[:5]}"
    topic = resource_name(settings, service, "staging")
    assert settings.installation in topic
    try:
        async with rabbitmq_queue(topic) as drain:
            live = deploy_shop(settings, service, image)
            with httpx.Client(base_url=live.url) as web:
                orders = [
                    web.post("/orders", json={"item": f"tea {n}", "qty": n}).json()["id"]
                    for n in range(5)
                ]
                customer = web.post("/customers", json={"name": "Ada"}).json()["id"]
            got = await drain(5)
        assert [(b["entity"], b["action"], b["id"]) for b in got.bodies] == [
            ("Order", "created", row) for row in orders
        ]
        held = await nats_stream(topic, 1, keep=True)  # tear-down removes it
        assert [(b["entity"], b["action"], b["id"]) for b in held.bodies] == [
            ("Customer", "created", customer)
        ]
    finally:
        said = _tear_down_all(settings, service, event_sinks=["nats", "rabbitmq"])
    assert f"RabbitMQ exchange `{topic}`" in said and f"NATS stream `{topic}`" in said


def test_a_broker_that_does_not_answer_stops_the_deploy_naming_it(settings, image):
    service = f"shop-{uuid.uuid4().hex[:5]}"
    away = settings.model_copy(update={"nats_url": f"nats://127.0.0.1:{devstack.free_port()}"})
    try:
        with pytest.raises(DeployFailed) as refused:
            deploy_shop(away, service, image)
        assert "NATS at 127.0.0.1" in str(refused.value) and "SHIPMATE_NATS_URL" in str(
            refused.value
        )
        assert _containers(settings, service) == []
    finally:
        tear_down(settings, service, Database.sqlite)
    assert docker.from_env().ping()


def test_a_consumer_runs_beside_its_api_through_versions_and_goes_with_it(
    settings, image, consumer_image
):
    shop, fulfillment = "shop-api", f"fulfil-{uuid.uuid4().hex[:5]}"
    consuming = {"consumes": ["shop-api"], "consumer_sinks": ["rabbitmq"]}
    try:
        orders = deploy_shop(settings, shop, image)
        first = deploy(settings, fulfillment, consumer_image, 1, Database.sqlite, **consuming)
        with httpx.Client(base_url=orders.url) as web:
            ids = [
                web.post("/orders", json={"item": "tea", "qty": n}).json()["id"] for n in range(20)
            ]

        def fulfilled() -> list[int]:
            return sorted(
                f["order_id"] for f in httpx.get(f"{first.url}/fulfillments?limit=100").json()
            )

        eventually_sync(lambda: fulfilled() == sorted(ids), what="a fulfillment per order")
        assert len(_consumers(settings, fulfillment)) == 1
        # A trace a client starts at shop-api goes on in fulfillment's consumer, through
        # the outbox, RabbitMQ and another container.
        trace_id, span_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
        traced = httpx.post(
            f"{orders.url}/orders",
            json={"item": "traced tea", "qty": 1},
            headers={"traceparent": f"00-{trace_id}-{span_id}-01"},
        )
        ids.append(traced.json()["id"])
        eventually_sync(
            lambda: any(
                line.get("trace_id") == trace_id and line.get("acted")
                for line in _consumer_lines(settings, fulfillment)
            ),
            what="the consumer's line in the order's trace",
        )
        second = deploy(settings, fulfillment, consumer_image, 2, Database.sqlite, **consuming)
        [kept] = _consumers(settings, fulfillment)
        assert kept.startswith(second.container)
        with httpx.Client(base_url=orders.url) as web:
            ids += [
                web.post("/orders", json={"item": "tea", "qty": n}).json()["id"] for n in range(5)
            ]
        eventually_sync(lambda: fulfilled() == sorted(ids), what="the new consumer to go on")
    finally:
        said = _tear_down_all(
            settings, fulfillment, consumer_queues=["rabbitmq:shop-api-order-created"]
        )
        _tear_down_all(settings, shop, event_sinks=["nats", "rabbitmq"])
    assert _consumers(settings, fulfillment) == []
    group = resource_name(settings, fulfillment, "staging")
    assert f"RabbitMQ queue `{group}-shop-api-order-created`" in said
    assert f"RabbitMQ queue `{group}-shop-api-order-created.dead`" in said
    assert asyncio.run(_queue_exists(f"{group}-shop-api-order-created")) is False


def _tear_down_all(settings, service: str, **events) -> str:
    """Tear-down as the workflow asks for it, with what the service published or consumed."""
    asked = TeardownInput(
        service=service, environment="staging", database=Database.sqlite, **events
    )
    return LOCAL.tear_down(settings, asked, heartbeat=print)


async def _queue_exists(name: str) -> bool:
    async with await aio_pika.connect(MACHINE_RABBITMQ) as connection:
        channel = await connection.channel()
        try:
            await channel.declare_queue(name, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return False
        return True


def _consumer_lines(settings, service: str) -> list[dict]:
    """The JSON lines the service's consumer container logged."""
    [name] = _consumers(settings, service)
    lines = []
    for text in docker.from_env().containers.get(name).logs().decode().splitlines():
        with contextlib.suppress(ValueError):
            lines.append(json.loads(text))
    return [line for line in lines if isinstance(line, dict)]


def _consumers(settings, service: str) -> list[str]:
    return [name for name in _containers(settings, service) if name.endswith("-consumer")]
