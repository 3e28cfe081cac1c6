"""Which changes a service publishes, and where: one line of the spec per entity.

A sink is a broker a generated service publishes to through its outbox (see the
service's app/relay.py): the change and its event are written in one transaction, and a
relay sends the event afterwards, so an event is neither lost when the process dies
after the commit nor sent for a write that was rolled back.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class Sink(StrEnum):
    sqs = "sqs"  # a queue per service and environment (moto's SQS locally)
    rabbitmq = "rabbitmq"  # a topic exchange per service, routing key <Entity>.<action>
    nats = "nats"  # a JetStream stream per service, subject <topic>.<Entity>.<action>


SINK_NAMES = {Sink.sqs: "SQS", Sink.rabbitmq: "RabbitMQ", Sink.nats: "NATS"}


class EventSpec(BaseModel):
    entity: str
    sink: Sink = Sink.sqs
