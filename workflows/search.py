"""Search attributes deliveries are listed by, and the visibility queries built on them.

`temporal workflow list --query "ShipmateService='orders-api' AND ShipmateState='failed'"`
Every query Shipmate sends is built here, so an attribute's name is written once.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

SERVICE = SearchAttributeKey.for_keyword("ShipmateService")
ENVIRONMENT = SearchAttributeKey.for_keyword_list("ShipmateEnvironment")
STATE = SearchAttributeKey.for_keyword("ShipmateState")
REQUESTER = SearchAttributeKey.for_keyword("ShipmateRequester")
CHANNEL = SearchAttributeKey.for_keyword("ShipmateChannel")
THREAD = SearchAttributeKey.for_keyword("ShipmateThread")

ALL = [SERVICE, ENVIRONMENT, STATE, REQUESTER, CHANNEL, THREAD]

DELIVERY_TYPE = "DeliveryWorkflow"
RUNNING = "ExecutionStatus = 'Running'"
CLOSED = "ExecutionStatus != 'Running'"
SERVICE_TYPE = "ServiceWorkflow"
REVIEW_TYPE = "ReviewWorkflow"
OPTIMIZE_TYPE = "OptimizeWorkflow"


# By the names queries and updates use.
KEYS = {
    "service": SERVICE,
    "state": STATE,
    "requester": REQUESTER,
    "channel": CHANNEL,
    "thread": THREAD,
}


def values(**attributes: str | None) -> list:
    """Search attribute updates for the attributes given (None is left out)."""
    return [KEYS[name].value_set(value) for name, value in attributes.items() if value]


def literal(value: str) -> str:
    """A value as a quoted visibility-query literal; only characters ids and names use."""
    return "'" + "".join(c for c in value if c.isalnum() or c in ".-_") + "'"


def query(
    workflow_type: str,
    *,
    running: bool = False,
    **attributes: str | None,
) -> str:
    """`WorkflowType = … AND <attribute> = …` for each attribute given (None is left out).

    Attributes are named by their key in this module: service, state, requester,
    channel, thread.
    """
    clauses = [f"WorkflowType = {literal(workflow_type)}"]
    if running:
        clauses.append(RUNNING)
    for name, value in attributes.items():
        if value is not None:
            clauses.append(f"{KEYS[name].name} = {literal(value)}")
    return " AND ".join(clauses)


def deliveries(*, running: bool = False, **attributes: str | None) -> str:
    return query(DELIVERY_TYPE, running=running, **attributes)


def services(*, running: bool = False, **attributes: str | None) -> str:
    return query(SERVICE_TYPE, running=running, **attributes)


def reviews(*, running: bool = False, **attributes: str | None) -> str:
    return query(REVIEW_TYPE, running=running, **attributes)


def review_attributes(request) -> list:
    """A review is found by its thread (for "apply the fixes") and by what it reads."""
    return values(
        service=request.source.service,
        requester=request.requester,
        channel=request.slack_channel,
        thread=request.slack_thread_ts,
    )


def optimizations(*, running: bool = False, **attributes: str | None) -> str:
    return query(OPTIMIZE_TYPE, running=running, **attributes)


def optimize_attributes(request) -> list:
    """An optimization is found by its thread (for its button) and by the service it loads."""
    return values(
        service=request.service,
        requester=request.requester,
        channel=request.slack_channel,
        thread=request.slack_thread_ts,
    )
