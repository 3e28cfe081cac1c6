"""'When an order is created, create a fulfillment' names no publisher: the question
which service has the orders gets a button for each running service that publishes
them, or, when none does, says what to do first. A button's answer (`order events from
orders-api`) is read back with the thread."""

from __future__ import annotations

import asyncio

from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from shipmate.delivery_client import service_state
from shipmate.status_report import service_names
from understanding.result import Choice
from workflows.event_spec import Sink
from workflows.spec import ServiceSpec, snake_case

MAX_LOOKED_AT = 200  # services whose events are looked at for a question's buttons
MAX_BUTTONS = 5  # as many as a question shows
QUERIES_AT_ONCE = 10
QUERY_SECONDS = 5.0


async def publisher_answers(
    temporal: Client, questions: list[str], choices: list[Choice]
) -> tuple[list[str], list[Choice]]:
    """The questions and choices with a button for each running service that publishes
    the entity a consumer would read (to a broker it can read: not SQS yet), or, when
    none does, the question saying so and what to do first."""
    asked = [choice for choice in choices if choice.publishers_of and not choice.answers]
    if not asked:
        return questions, choices
    states = await _running_specs(temporal)
    filled = {}
    for choice in asked:
        found = [
            name
            for name, spec in states.items()
            if any(e.entity == choice.publishers_of and e.sink != Sink.sqs for e in spec.events)
        ]
        entity = snake_case(choice.publishers_of).replace("_", " ")
        if found:  # naming the rows: with two such questions, each button answers its own
            answers = [f"{entity} events from {name}" for name in found[:MAX_BUTTONS]]
            filled[choice.question] = choice.model_copy(update={"answers": answers})
        else:
            filled[choice.question] = choice.model_copy(
                update={
                    "question": f"{choice.question} No service I run publishes {entity} "
                    f"changes yet: in the thread of the one that has them, say `publish "
                    f"{entity} changes to RabbitMQ` (or NATS) first."
                }
            )
    return (
        [filled[q].question if q in filled else q for q in questions],
        [filled.get(choice.question, choice) for choice in choices],
    )


async def _running_specs(temporal: Client) -> dict[str, ServiceSpec]:
    """The current spec of each service, asked of a few at a time; one whose answer does
    not come is left out (the buttons are a help: the answer is checked again before a
    delivery starts)."""
    gate = asyncio.Semaphore(QUERIES_AT_ONCE)

    async def spec_of(name: str) -> ServiceSpec | None:
        async with gate:
            try:
                state = await asyncio.wait_for(service_state(temporal, name), QUERY_SECONDS)
            except (RPCError, WorkflowQueryFailedError, TimeoutError):  # wedged: no button
                return None
        return state.current_spec if state else None

    names = (await service_names(temporal))[:MAX_LOOKED_AT]
    specs = await asyncio.gather(*(spec_of(name) for name in names))
    return {name: spec for name, spec in zip(names, specs, strict=True) if spec is not None}
