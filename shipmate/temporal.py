"""Connecting to Temporal, with the pydantic data converter every side agrees on."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from shipmate.settings import Settings


class TemporalUnavailable(Exception):
    """The workflow engine did not answer; the message says where Shipmate looked."""


async def connect(settings: Settings) -> Client:
    try:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
        )
    except Exception as exc:  # the SDK raises a bare RuntimeError for refused connections
        raise TemporalUnavailable(
            f"cannot reach Temporal at {settings.temporal_address} "
            f"(SHIPMATE_TEMPORAL_ADDRESS): {exc}. Start it with `shipmate dev`."
        ) from None
