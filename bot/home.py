"""The App Home: what waits on this person's approval, and their recent deliveries."""

from __future__ import annotations

import asyncio

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from temporalio.service import RPCError

from bot.temporal_link import TemporalLink
from shipmate import status_report
from shipmate.settings import Settings
from shipmate.temporal import TemporalUnavailable
from slack_views.home import home_view
from workflows import search
from workflows.models import DeliveryState, DeliveryStatus, GateState


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
        links = await thread_links(client, [*waiting_on_me[:10], *recent[:15]])
        view = home_view(recent, waiting_on_me, self.ui, links)
        await client.views_publish(user_id=user, view=view)


async def thread_links(client: AsyncWebClient, statuses: list[DeliveryStatus]) -> dict[str, str]:
    """Each delivery's thread permalink, asked of Slack together; none where it won't say."""

    async def link(status: DeliveryStatus) -> str | None:
        if not (status.slack_channel and status.slack_thread_ts):
            return None
        try:
            found = await client.chat_getPermalink(
                channel=status.slack_channel, message_ts=status.slack_thread_ts
            )
        except SlackApiError:
            return None
        return found["permalink"]

    found = await asyncio.gather(*(link(s) for s in statuses))
    return {s.delivery_id: url for s, url in zip(statuses, found, strict=True) if url}
