"""The App Home: what waits on this person's approval, and their recent deliveries."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient
from temporalio.service import RPCError

from bot.temporal_link import TemporalLink
from shipmate import status_report
from shipmate.settings import Settings
from shipmate.temporal import TemporalUnavailable
from slack_views.home import home_view
from workflows import search
from workflows.models import DeliveryState, GateState


class AppHome:
    def __init__(self, settings: Settings, temporal: TemporalLink):
        self.temporal = temporal
        self.ui = f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}"

    async def publish(self, client: AsyncWebClient, user: str) -> None:
        try:
            temporal = await self.temporal.client()
            mine = search.deliveries(requester=user)
            waiting = search.deliveries(state=DeliveryState.waiting_for_approval)
            recent = await status_report.deliveries_matching(temporal, mine, limit=15)
            candidates = await status_report.deliveries_matching(temporal, waiting)
            waiting_on_me = [
                s
                for s in candidates
                if s.requester != user
                and any(g.state == GateState.open and user in g.approvers for g in s.gates)
            ]
        except (TemporalUnavailable, RPCError):
            recent, waiting_on_me = [], []
        await client.views_publish(user_id=user, view=home_view(recent, waiting_on_me, self.ui))
