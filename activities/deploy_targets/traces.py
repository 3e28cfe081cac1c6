"""Where a deployed service sends its traces.

A generated service exports its spans over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT when
it is set (app/tracing.py). Shipmate sets it from SHIPMATE_SERVICES_OTLP_ENDPOINT, with
the service's name and its environment as the span's resource, so one collector tells
every service and environment apart and a trace reads across them. Unset, services make
spans (their ids reach logs and events) and send them nowhere.
"""

from __future__ import annotations

from collections.abc import Callable

from shipmate.settings import Settings


def trace_environment(
    settings: Settings,
    service: str,
    environment: str,
    reach: Callable[[str], str] | None = None,
) -> dict[str, str]:
    """The OTEL_* settings a service runs with. `reach`: the collector's address as the
    service reaches it, when that differs from the worker's (a collector on loopback)."""
    endpoint = settings.services_otlp_endpoint
    if not endpoint:
        return {}
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": reach(endpoint) if reach else endpoint,
        "OTEL_SERVICE_NAME": service,
        "OTEL_RESOURCE_ATTRIBUTES": f"deployment.environment={environment}",
    }
