"""What Apply changes: the slow spots that are a change of the service's spec, asked for as
a change delivery, and followed until it ends.

Only what the spec can say is applied: an index on a field a filter or a sort reads in
full. The change goes through the service's tests and gates like any change; the spots
the spec cannot express (an N+1, a pool size) stay findings on the card.
"""

from __future__ import annotations

from temporalio.client import Client

from shipmate import delivery_client
from shipmate.settings import Settings
from workflows.models import DeliveryState
from workflows.optimize_models import DeliveryOutcome, IndexChange, SlowSpot, SpeedupInput, SpotKind
from workflows.spec import EntitySpec, ServiceSpec

FINISHED = {
    DeliveryState.succeeded,
    DeliveryState.failed,
    DeliveryState.rejected,
    DeliveryState.expired,
    DeliveryState.cancelled,
}


class SpeedupRefused(Exception):
    """Said as it is: the speed-ups cannot be asked for now."""


def index_changes(spec: ServiceSpec, spots: list[SlowSpot]) -> list[IndexChange]:
    """The missing-index spots on a field of the spec that has no index of its own yet."""
    tables = {entity.table: entity for entity in spec.entities}
    changes: list[IndexChange] = []
    for spot in spots:
        entity = tables.get(spot.table)
        if spot.kind != SpotKind.missing_index or entity is None:
            continue
        for column in spot.columns[:1]:  # the first column is the one the index leads with
            field = _field(entity, column)
            if field is None:
                continue
            change = IndexChange(entity=entity.name, field=field, table=entity.table)
            if change not in changes:
                changes.append(change)
    return changes


def _field(entity: EntitySpec, column: str) -> str | None:
    for field in entity.fields:
        candidate = field.model_copy(update={"indexed": True})
        if field.name == column and not field.own_index and candidate.own_index:
            return field.name
    return None


def with_indexes(spec: ServiceSpec, changes: list[IndexChange]) -> ServiceSpec:
    wanted = {(change.entity, change.field) for change in changes}
    entities = [
        entity.model_copy(
            update={
                "fields": [
                    field.model_copy(update={"indexed": True})
                    if (entity.name, field.name) in wanted
                    else field
                    for field in entity.fields
                ]
            }
        )
        for entity in spec.entities
    ]
    return spec.model_copy(update={"entities": entities})


async def request_speedup(settings: Settings, client: Client, asked: SpeedupInput) -> str:
    spec = await delivery_client.current_spec(client, asked.service)
    if spec is None:
        raise SpeedupRefused(f"there is no service called {asked.service} any more")
    if spec.version != asked.version:
        raise SpeedupRefused(
            f"these speed-ups were found on v{asked.version} of {asked.service}, which is at "
            f"v{spec.version} now: load test it again"
        )
    listed = ", ".join(change.words for change in asked.indexes)
    try:
        ticket = await delivery_client.request_change(
            client,
            settings,
            f"speed up {asked.service}: {listed}"[:500],
            with_indexes(spec, asked.indexes),
            asked.requester,
            channel=asked.slack_channel,
            thread_ts=asked.slack_thread_ts,
            request_key=f"speedup/{asked.optimize_id}",
            new_service=False,
        )
    except delivery_client.DecisionRefused as exc:
        raise SpeedupRefused(str(exc)) from None
    return ticket.delivery_id


async def delivery_outcome(client: Client, delivery_id: str) -> DeliveryOutcome:
    """An engine that does not answer raises (the poll is tried again)."""
    status = await delivery_client.delivery_status(client.get_workflow_handle(delivery_id))
    if status is None:  # queued behind another change of the service
        return DeliveryOutcome(finished=False, state="queued")
    return DeliveryOutcome(
        finished=status.state in FINISHED,
        state=status.state.value,
        version=status.version,
        error=status.error,
    )
