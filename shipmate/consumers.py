"""A consumer reads its events where the publisher puts them: before a delivery starts,
each consumer of the spec is given the broker its publisher publishes that entity to now,
or the delivery does not start and the person is told what to do first."""

from __future__ import annotations

from temporalio.client import Client

from shipmate.delivery_client import service_state
from workflows.event_spec import SINK_NAMES, Sink
from workflows.spec import ServiceSpec, snake_case


class PublisherProblem(Exception):
    """A consumer's publisher is not running, or does not publish what it would read."""


async def with_publishers(temporal: Client, spec: ServiceSpec) -> ServiceSpec:
    """`spec` with each consumer on its publisher's broker; PublisherProblem saying why not."""
    consumers, states = [], {}
    for consumer in spec.consumers:
        if consumer.publisher not in states:  # one question per publisher, however many
            states[consumer.publisher] = await service_state(temporal, consumer.publisher)
        state = states[consumer.publisher]
        publisher = state.current_spec if state else None
        entity = snake_case(consumer.entity).replace("_", " ")  # as the readers read it
        if publisher is None:
            raise PublisherProblem(
                f"{consumer.publisher} isn't a service I run, so no {entity} events would "
                f"reach {spec.name}. Build it first, or name the service that has them."
            )
        event = next((e for e in publisher.events if e.entity == consumer.entity), None)
        if event is None:
            raise PublisherProblem(
                f"{consumer.publisher} doesn't publish {consumer.entity} changes yet. In its "
                f"thread, say `publish {entity} changes to RabbitMQ` (or NATS), then ask again."
            )
        if event.sink == Sink.sqs:
            raise PublisherProblem(
                f"{consumer.publisher} publishes {consumer.entity} changes to "
                f"{SINK_NAMES[event.sink]}, and consuming from SQS isn't built yet. Say "
                f"`publish {entity} changes to RabbitMQ instead` (or NATS) in its thread first."
            )
        _fields_an_event_fills(spec, consumer, publisher)
        _publishes_where_it_would_run(spec, consumer.publisher, set(state.deployments))
        consumers.append(consumer.model_copy(update={"sink": event.sink}))
    return spec.model_copy(update={"consumers": consumers})


def _fields_an_event_fills(spec: ServiceSpec, consumer, publisher: ServiceSpec) -> None:
    """Every required field of the row a consumer makes has a default or a value of the
    same name in the event; else every event would be dead-lettered."""
    made = next(e for e in spec.entities if e.name == consumer.creates)
    source = next((e for e in publisher.entities if e.name == consumer.entity), None)
    carried = {f.name for f in source.fields} if source else set()
    missing = [
        f.name
        for f in made.fields
        if f.required and f.default is None and f.name != consumer.link and f.name not in carried
    ]
    missing += [r.name for r in made.relations if r.required]  # a link no event fills
    if missing:
        names = ", ".join(missing)
        raise PublisherProblem(
            f"Each {made.name} needs {names}, which {consumer.entity} events of "
            f"{consumer.publisher} don't carry: give {names} a default (e.g. `status "
            f"(default pending)`) or make {'them' if len(missing) > 1 else 'it'} optional."
        )


def _publishes_where_it_would_run(spec: ServiceSpec, publisher: str, live: set[str]) -> None:
    """The publisher runs in one of the environments the consumer is deployed to; else the
    consumer would listen where nothing is ever published."""
    wanted = spec.deploy.environments
    if wanted and not live & set(wanted):
        where = ", ".join(sorted(live)) or "no environment yet"
        raise PublisherProblem(
            f"{publisher} runs in {where}, and {spec.name} would run in {', '.join(wanted)}, "
            f"where nothing publishes its events. Deploy {publisher} there first, or deploy "
            f"{spec.name} where {publisher} runs."
        )
