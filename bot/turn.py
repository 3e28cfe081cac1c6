"""One turn of a conversation: where a person said something, and how to answer there.

Answers go in the thread and a refusal to that person alone, through the channel's
SlackOutbox: paced to Slack's limits, kept across restarts, said once however often
Slack delivers the event (each reply's key is the event's plus its place in the turn).
When the workflow engine is down the reply saying so goes to Slack directly, and when
Slack will not let the bot speak in a channel the person gets a DM saying what to do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from temporalio.service import RPCError

from bot.temporal_link import TemporalLink
from shipmate.outbox_client import enqueue
from shipmate.temporal import TemporalUnavailable
from slack_views.text import cannot_post_advice
from slack_views.thread import answer_blocks, answer_parts
from workflows.outbox_messages import OutgoingMessage

log = logging.getLogger(__name__)

SEEN = ":eyes: Got it; my answer follows in this thread."


def clicked_where(body: dict) -> tuple[str | None, dict, dict]:
    """A button click's channel, its container and the message the button sits on
    (Slack names the channel in one place or the other, depending on the surface)."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    return channel, container, body.get("message") or {}


@dataclass
class Turn:
    client: AsyncWebClient
    channel: str | None  # None for a click on the App Home
    thread_ts: str | None
    user: str
    key: str = ""  # what Slack delivered: the same on a redelivery
    message_ts: str | None = None  # the person's message, to react to
    temporal: TemporalLink | None = None
    task_queue: str = ""
    files: list[dict] = field(default_factory=list)  # attached to the message: a review's
    _said: int = field(default=0, init=False)

    async def say(self, text: str) -> None:
        """Answer in the thread; a long answer goes as several messages, in order."""
        for part in answer_parts(text):
            await self._send(part, [b.to_dict() for b in answer_blocks(part)], private=False)

    async def say_with_blocks(self, text: str, blocks: list) -> None:
        """One message with buttons; `text` says the same in words (notifications, readers)."""
        await self._send(text, [b.to_dict() for b in blocks], private=False)

    async def tell_privately(self, text: str, blocks: list | None = None) -> None:
        rendered = [b.to_dict() for b in blocks] if blocks else None
        if self.channel is None:  # the App Home: a DM
            await self.client.chat_postMessage(channel=self.user, text=text, blocks=rendered)
            return
        await self._send(text, rendered, private=True)

    async def react(self, name: str = "eyes") -> None:
        """Seen at once, even when the reply waits its turn in a busy channel: a reaction,
        or when reactions are rate limited, a word to that person alone (another budget).
        No waiting here: an acknowledgement that comes late is no acknowledgement."""
        if self.channel is None or self.message_ts is None:
            return
        at_once = AsyncWebClient(token=self.client.token, base_url=self.client.base_url)
        try:
            await at_once.reactions_add(channel=self.channel, timestamp=self.message_ts, name=name)
        except SlackApiError as exc:
            if exc.response.get("error") != "ratelimited":
                log.info("no reaction in %s: %s", self.channel, exc.response.get("error"))
                return
            try:
                await at_once.chat_postEphemeral(
                    channel=self.channel, user=self.user, thread_ts=self.thread_ts, text=SEEN
                )
            except SlackApiError as second:
                log.info("no acknowledgement in %s: %s", self.channel, second.response)

    async def _send(self, text: str, blocks: list | None, private: bool) -> None:
        self._said += 1
        message = OutgoingMessage(
            key=f"{self.key or self.channel}/reply/{self._said}",
            channel=self.channel,
            thread_ts=self.thread_ts,
            text=text,
            blocks=blocks,
            private_to=self.user if private else None,
            on_behalf_of=self.user,
        )
        if self.temporal is not None and self.key:
            try:
                await enqueue(await self.temporal.client(), self.task_queue, message)
                return
            except (TemporalUnavailable, RPCError) as exc:
                log.warning("outbox unreachable (%s); posting %s directly", exc, message.key)
        await self._post_now(message)

    async def _post_now(self, message: OutgoingMessage) -> None:
        try:
            if message.private_to:
                await self.client.chat_postEphemeral(
                    channel=message.channel,
                    user=message.private_to,
                    text=message.text,
                    blocks=message.blocks,
                    thread_ts=message.thread_ts,
                )
            else:
                await self.client.chat_postMessage(
                    channel=message.channel,
                    thread_ts=message.thread_ts,
                    text=message.text,
                    blocks=message.blocks,
                )
        except SlackApiError as exc:
            await self._cannot_post(exc)

    async def _cannot_post(self, exc: SlackApiError) -> None:
        error = exc.response.get("error", "")
        advice = cannot_post_advice(self.channel or "", error, exc.response.get("needed"))
        if advice is None:
            log.error("Slack refused a reply in %s: %s", self.channel, error)
            return
        log.warning("cannot post in %s (%s); telling %s directly", self.channel, error, self.user)
        try:
            await self.client.chat_postMessage(channel=self.user, text=advice)
        except SlackApiError as second:
            log.error("could not DM %s either: %s", self.user, second.response.get("error"))
