"""One turn of a conversation: where a person said something, and how to answer there.

Answers go in the thread; a refusal goes to that person alone; when Slack will not let
the bot speak in a channel, the person is told in a DM what to do instead of silence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_views.thread import answer_blocks

log = logging.getLogger(__name__)


@dataclass
class Turn:
    client: AsyncWebClient
    channel: str | None  # None for a click on the App Home
    thread_ts: str | None
    user: str

    async def say(self, text: str) -> None:
        try:
            await self.client.chat_postMessage(
                channel=self.channel,
                thread_ts=self.thread_ts,
                text=text,
                blocks=[b.to_dict() for b in answer_blocks(text)],
            )
        except SlackApiError as exc:
            await self._cannot_post(exc)

    async def tell_privately(self, text: str, blocks: list | None = None) -> None:
        rendered = [b.to_dict() for b in blocks] if blocks else None
        if self.channel is None:
            await self.client.chat_postMessage(channel=self.user, text=text, blocks=rendered)
            return
        try:
            await self.client.chat_postEphemeral(
                channel=self.channel,
                user=self.user,
                text=text,
                blocks=rendered,
                thread_ts=self.thread_ts,
            )
        except SlackApiError as exc:
            await self._cannot_post(exc)

    async def _cannot_post(self, exc: SlackApiError) -> None:
        error = exc.response.get("error", "")
        if error in ("not_in_channel", "channel_not_found"):
            advice = (
                f"I'm not in <#{self.channel}>, so I can't answer there. Invite me with "
                "`/invite @shipmate` and ask again."
            )
        elif error == "missing_scope":
            advice = (
                "I'm missing a Slack permission for that "
                f"({exc.response.get('needed', 'a scope')}). Ask an admin to reinstall "
                "me with the scopes in deploy/slack-manifest.yml."
            )
        else:
            log.error("Slack refused a reply in %s: %s", self.channel, error)
            return
        log.warning("cannot post in %s (%s); telling %s directly", self.channel, error, self.user)
        try:
            await self.client.chat_postMessage(channel=self.user, text=advice)
        except SlackApiError as second:
            log.error("could not DM %s either: %s", self.user, second.response.get("error"))
