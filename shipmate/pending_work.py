"""Why a stage shown as running may not be moving: what Temporal holds of its activity.

A delivery's own status says a stage runs; only the engine knows whether a worker has
taken it, which attempt it is on, and why the last one failed. `shipmate status` asks
for this beside each delivery in flight, so an operator can tell a slow build from one
retrying against a broken registry or one that no worker has room for. The stage's
last heartbeat says how far it got (a build's step, the tests passed so far), so a
slow stage can be told from a stuck one too.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client
from temporalio.service import RPCError

# The stage each activity runs, in the words the card uses.
STAGE_OF = {
    "plan_service": "plan",
    "environment_rules": "rules",
    "scaffold_service": "scaffold",
    "test_service": "test",
    "build_service_image": "build",
    "push_service_image": "push",
    "deploy_service": "deploy",
    "verify_service": "verify",
    "describe_teardown": "plan",
    "tear_down_service": "tear down",
    "notify": "card update",
}
FAILURE_CHARS = 200
PROGRESS_CHARS = 200
SCHEDULED = PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED  # no worker has it yet


class PendingWork(BaseModel):
    stage: str
    attempt: int
    waiting_for_worker: bool = False  # no worker has taken it: none free, or none polling
    retry_in_seconds: float | None = None  # failed, and tried again after this backoff
    last_failure: str | None = None
    progress: str | None = None  # the last heartbeat's details: how far it got

    def describe(self) -> str:
        parts = [f"{self.stage}: attempt {self.attempt}"]
        if self.retry_in_seconds is not None:
            parts.append(f"tried again in {self.retry_in_seconds:.0f}s")
        elif self.waiting_for_worker:
            parts.append("waiting for a free worker")
        else:
            parts.append("running on a worker")
        if self.progress:
            parts.append(f"last progress: {self.progress}")
        line = ", ".join(parts)
        return f"{line}; last failure: {self.last_failure}" if self.last_failure else line


async def pending_work(client: Client, delivery_id: str) -> list[PendingWork]:
    """The delivery's activities Temporal has scheduled and not seen end; none if it
    cannot say right now (the answer is a help, never a reason to fail the report)."""
    try:
        described = await client.get_workflow_handle(delivery_id).describe()
    except RPCError:
        return []
    now = datetime.now(UTC)
    found = []
    for pending in described.raw_description.pending_activities:
        retry_in = None
        if pending.HasField("next_attempt_schedule_time"):
            at = pending.next_attempt_schedule_time.ToDatetime(tzinfo=UTC)
            retry_in = max(0.0, (at - now).total_seconds()) if at > now else None
        failure = pending.last_failure.message if pending.HasField("last_failure") else None
        found.append(
            PendingWork(
                stage=STAGE_OF.get(pending.activity_type.name, pending.activity_type.name),
                attempt=pending.attempt,
                waiting_for_worker=pending.state
                == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
                retry_in_seconds=retry_in,
                last_failure=failure[:FAILURE_CHARS] if failure else None,
                progress=await _progress(client, pending),
            )
        )
    return found


async def _progress(client: Client, pending) -> str | None:
    """The first heartbeat detail, decoded as the client decodes any payload (its codec
    included); a stage that heartbeats without details has none."""
    if not pending.HasField("heartbeat_details") or not pending.heartbeat_details.payloads:
        return None
    try:
        details = await client.data_converter.decode(list(pending.heartbeat_details.payloads))
    except Exception:  # a detail this client cannot read is no reason to fail the report
        return None
    return str(details[0])[:PROGRESS_CHARS] if details and details[0] is not None else None
