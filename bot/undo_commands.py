"""`@shipmate roll back orders-api in prod` and `tear down orders-api in staging`.

Each starts a delivery of its own in the thread it was said in; the delivery's card
asks the environment's approvers, as for any deploy. Said in a delivery's thread, the
command may leave out the service: it is that thread's.
"""

from __future__ import annotations

from temporalio.client import Client

from bot.commands import Command, Verb
from bot.turn import Turn
from shipmate import delivery_client
from shipmate.people import Directory
from shipmate.settings import Settings
from slack_views.text import escape_keeping_mentions
from workflows.models import DeliveryStatus, DeliveryTicket, Operation

OPERATIONS = {Verb.roll_back: Operation.roll_back, Verb.tear_down: Operation.tear_down}
WHAT_HAPPENS = {
    Operation.roll_back: "puts the version that served before back",
    Operation.tear_down: "deletes its containers, database and secrets",
}


async def ask_to_undo(
    turn: Turn,
    temporal: Client,
    settings: Settings,
    directory: Directory,
    command: Command,
    status: DeliveryStatus | None,
) -> None:
    operation = OPERATIONS[command.verb]
    service = command.service or (status.service if status else None)
    if not service:
        await turn.say(
            f"Which service? Say `@shipmate {operation.value} <service> in {command.environment}`."
        )
        return
    try:
        ticket = await delivery_client.request_undo(
            temporal,
            settings,
            operation,
            service,
            command.environment or "",
            turn.user,
            channel=turn.channel,
            thread_ts=turn.thread_ts,
            request_key=turn.key,
            directory=directory,
        )
    except delivery_client.DecisionRefused as exc:
        await turn.tell_privately(f":no_entry: {escape_keeping_mentions(str(exc))}")
        return
    await turn.say(undo_started(operation, service, command.environment or "", ticket))


def undo_started(
    operation: Operation, service: str, environment: str, ticket: DeliveryTicket
) -> str:
    """What Shipmate says once a roll back or tear-down is queued (command or button)."""
    return (
        f"*{operation.value.capitalize()}* of *{service}* in *{environment}* "
        f"(`{ticket.delivery_id}`): this {WHAT_HAPPENS[operation]}, once approved on its card."
    )
