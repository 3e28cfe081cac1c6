"""A lazily (re)connected Temporal client: the bot starts, and answers, while Temporal is down."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.service import RPCError

from shipmate.settings import Settings
from shipmate.temporal import TemporalUnavailable, connect


class TemporalLink:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._client: Client | None = None
        self.up = False

    async def client(self) -> Client:
        if self._client is None:
            self._client = await connect(self.settings)
        self.up = True
        return self._client

    async def check(self) -> bool:
        """For /health: does the engine answer right now?"""
        try:
            client = await self.client()
            await client.service_client.check_health()
            self.up = True
        except (TemporalUnavailable, RPCError, RuntimeError):
            self.up = False
        return self.up
