"""Which changes a service publishes, and where: one line of the spec per entity.

A sink is a broker a generated service publishes to through its outbox (see the
service's app/relay.py): the change and its event are written in one transaction, and a
relay sends the event afterwards, so an event is neither lost when the process dies
after the commit nor sent for a write that was rolled back.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, field_validator

from workflows.identifiers import ENTITY_NAME, SERVICE_NAME


class Sink(StrEnum):
    sqs = "sqs"  # a queue per service and environment (moto's SQS locally)
    rabbitmq = "rabbitmq"  # a topic exchange per service, routing key <Entity>.<action>
    nats = "nats"  # a JetStream stream per service, subject <topic>.<Entity>.<action>


SINK_NAMES = {Sink.sqs: "SQS", Sink.rabbitmq: "RabbitMQ", Sink.nats: "NATS"}


class EventSpec(BaseModel):
    entity: str
    sink: Sink = Sink.sqs

    @field_validator("sink", mode="before")
    @classmethod
    def _stored_before_sinks_were_checked(cls, value):
        """A spec stored when any word was a sink ('kafka') published to SQS: it still does."""
        return value if value in tuple(Sink) else Sink.sqs


class EventAction(StrEnum):
    created = "created"
    updated = "updated"
    deleted = "deleted"


class ConsumerSpec(BaseModel):
    """'When an order is created in orders-api, create a fulfillment': for each `action`
    event of the publisher's `entity`, this service makes a row of `creates` whose `link`
    field holds that row's id (other fields: the event's values of the same name, else
    their defaults). A repeat of an event makes nothing (an inbox of event ids)."""

    publisher: str
    entity: str
    sink: Sink
    action: EventAction = EventAction.created
    creates: str
    link: str

    @field_validator("publisher")
    @classmethod
    def _a_service_name(cls, value: str) -> str:
        if not SERVICE_NAME.fullmatch(value) or len(value) > 40:
            raise ValueError(f"publisher {value[:40]!r} must be a service name like orders-api")
        return value

    @field_validator("entity", "creates")
    @classmethod
    def _an_entity_name(cls, value: str) -> str:
        if not ENTITY_NAME.fullmatch(value):
            raise ValueError(f"{value[:40]!r} must be an entity name like Order")
        return value


def queue_suffix(consumer: ConsumerSpec) -> str:
    """The end of a consumer's own queue (RabbitMQ) or durable consumer (NATS) name, after
    the service's consumer group: the generated consumer and tear-down both use it."""
    return f"{consumer.publisher}-{consumer.entity.lower()}-{consumer.action.value}"


def check_consumers(spec) -> None:
    """What a consumer needs of its own service; ValueError saying what is wrong. Whether
    the publisher exists and publishes the entity is the workflow's to check. On ECS a
    service publishes to SQS only and runs no consumer yet: said before anything is built."""
    brokers = sorted({e.sink.value for e in spec.events} - {Sink.sqs.value})
    if spec.deploy.target == "aws-ecs" and (brokers or spec.consumers):
        what = " and ".join(SINK_NAMES[Sink(b)] for b in brokers) or "a consumer"
        raise ValueError(
            f"on AWS ECS a service publishes its events to SQS only and runs no consumer yet, "
            f"so {what} needs a local deploy for now"
        )
    entities = {entity.name: entity for entity in spec.entities}
    seen = set()
    for consumer in spec.consumers:
        if consumer.publisher == spec.name:
            raise ValueError(f"{spec.name} cannot consume its own events; name another service")
        target = entities.get(consumer.creates)
        if target is None:
            raise ValueError(f"a consumer creates {consumer.creates}, not an entity here")
        link = next((f for f in target.fields if f.name == consumer.link), None)
        if link is None or link.type != "int":
            raise ValueError(
                f"{consumer.creates}.{consumer.link} must be an int field: it keeps the "
                f"{consumer.entity}'s id"
            )
        key = (consumer.publisher, consumer.entity, consumer.action, consumer.creates)
        if key in seen:
            raise ValueError(f"{consumer.creates} from {consumer.entity} is listed twice")
        seen.add(key)
