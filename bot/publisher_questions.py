"""'When an order is created, create a fulfillment' names no publisher: the question
which service has the orders gets a button for each running service that publishes
them, or, when none does, says what to do first. A button's answer (`from orders-api`)
is read back with the thread."""

from __future__ import annotations

from temporalio.client import Client

from shipmate.delivery_client import service_state
from shipmate.status_report import service_names
from understanding.result import Choice
from workflows.event_spec import Sink
from workflows.spec import snake_case

MAX_LOOKED_AT = 200  # services whose events are looked at for a question's buttons
MAX_BUTTONS = 5  # as many as a question shows


async def publisher_answers(
    temporal: Client, questions: list[str], choices: list[Choice]
) -> tuple[list[str], list[Choice]]:
    """The questions and choices with a button for each running service that publishes
    the entity a consumer would read (to a broker it can read: not SQS yet), or, when
    none does, the question saying so and what to do first."""
    asked = [choice for choice in choices if choice.publishers_of and not choice.answers]
    if not asked:
        return questions, choices
    states = {}
    for name in (await service_names(temporal))[:MAX_LOOKED_AT]:
        state = await service_state(temporal, name)
        if state is not None and state.current_spec is not None:
            states[name] = state.current_spec
    filled = {}
    for choice in asked:
        found = [
            name
            for name, spec in states.items()
            if any(e.entity == choice.publishers_of and e.sink != Sink.sqs for e in spec.events)
        ]
        if found:
            answers = [f"from {name}" for name in found[:MAX_BUTTONS]]
            filled[choice.question] = choice.model_copy(update={"answers": answers})
        else:
            entity = snake_case(choice.publishers_of).replace("_", " ")
            filled[choice.question] = choice.model_copy(
                update={
                    "question": f"{choice.question} No service I run publishes "
                    f"{choice.publishers_of} changes yet: in the thread of the one that has "
                    f"them, say `publish {entity} changes to RabbitMQ` (or NATS) first."
                }
            )
    return (
        [filled[q].question if q in filled else q for q in questions],
        [filled.get(choice.question, choice) for choice in choices],
    )
