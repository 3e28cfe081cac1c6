"""`@shipmate roll back orders-api in prod` and `tear down orders-api in staging`.

Each starts a delivery of its own in the thread it was said in; the delivery's card
asks the environment's approvers, as for any deploy. Said in a delivery's thread, the
command may leave out the service: it is that thread's. A name no service has ("tear
down hinagys in staging") or a missing environment gets a question with the nearest
service or the service's environments as buttons, and nothing starts.
"""

from __future__ import annotations

from temporalio.client import Client

from bot.commands import Command, Verb
from bot.turn import Turn
from shipmate import delivery_client, status_report
from shipmate.people import Directory
from shipmate.settings import Settings
from slack_views.plan import question_blocks
from slack_views.text import escape_keeping_mentions
from understanding.near_names import near
from understanding.result import Choice
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
    state = await delivery_client.service_state(temporal, service)
    if state is None or command.environment is None:
        asked = await _what_was_meant(temporal, operation, service, command, state)
        await turn.say_with_blocks(*asked)
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


async def _what_was_meant(
    temporal: Client, operation: Operation, service: str, command: Command, state
) -> tuple[str, list]:
    """A name no service has, or no environment: the nearest service or the service's
    environments, each as a button that says the whole command; nothing starts yet."""
    if state is None:
        meant = near(service, await status_report.service_names(temporal))
        where = f" in {command.environment}" if command.environment else ""
        asked = f"I know no service called `{service}`." + (
            f" Did you mean {' or '.join(f'*{m}*' for m in meant)}?" if meant else ""
        )
        answers = [f"{operation.value} {m}{where}" for m in meant if where]
        if meant and not where:
            asked += f" Say `@shipmate {operation.value} {meant[0]} in <environment>`."
    else:
        deployed = sorted(state.deployments)
        asked = f"Which environment of *{service}* should I {operation.value}?" + (
            f" It runs in {', '.join(deployed)}." if deployed else " It runs nowhere yet."
        )
        answers = [f"{operation.value} {service} in {env}" for env in deployed]
    text = asked + "".join(f"\nAnswer `{a}` here in the thread." for a in answers[:1])
    choices = [Choice(question=asked, answers=answers)] if answers else []
    return text, question_blocks([asked], choices)
