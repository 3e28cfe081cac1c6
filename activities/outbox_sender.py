"""The `send_to_slack` activity: one outbox message, posted, edited or whispered once.

A 429 becomes a retry after Slack's Retry-After; errors no retry can fix (the bot is
not in the channel, a revoked token) end the message at once, and when the bot cannot
post where it was asked, the person it answers gets a DM saying what to do. A post
carries its key in Slack's message metadata, so a retry after a worker died between
posting and reporting finds the message and posts nothing twice. A card someone deleted
(or a local Slack lost) is posted again at its next edit, saying so, and an answer whose
thread is gone starts a message of its own: old messages never make edits fail forever.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from temporalio import activity
from temporalio.exceptions import ApplicationError

from shipmate.settings import Settings
from slack_views.text import cannot_post_advice, workflow_url
from workflows import activity_contracts as contracts
from workflows.activity_contracts import implements
from workflows.outbox_messages import MessageKind, OutgoingMessage, SlackCall, SlackSent

log = logging.getLogger(__name__)

METADATA_TYPE = "shipmate_message"
# Errors retrying cannot fix: say so once in the worker log, do not hammer Slack.
PERMANENT = {
    "not_in_channel",
    "channel_not_found",
    "invalid_auth",
    "missing_scope",
    "account_inactive",
    "is_archived",
    "user_not_in_channel",
    "user_not_found",
    "cannot_dm_bot",
    "user_disabled",
    "invalid_blocks",
    "msg_too_long",
}
GONE = {"message_not_found", "thread_not_found"}  # what Slack says of a deleted message
CARD_AGAIN = "_The earlier copy of this was deleted, so here it is again._"
THREAD_GONE = "_The thread this belongs to was deleted, so it is posted here._"


def _count_rate_limited(api_url: str) -> None:
    """shipmate_slack_rate_limited_total, by Web API method: how often Slack made us wait."""
    counter = activity.metric_meter().create_counter(
        "shipmate_slack_rate_limited", "Slack Web API calls answered 429 (rate limited)"
    )
    counter.add(1, {"method": api_url.rsplit("/", 1)[-1]})


class SlackSender:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._client: WebClient | None = None
        self._direct: dict[str, str] = {}  # a person's id -> their DM with the bot

    @property
    def client(self) -> WebClient:
        """No rate-limit handler: a 429 goes back to Temporal, which waits Retry-After."""
        if self._client is None:
            token = self.settings.slack_bot_token
            self._client = WebClient(
                token=token.get_secret_value() if token else None,
                base_url=self.settings.slack_api_url or WebClient.BASE_URL,
                retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2)],
            )
        return self._client

    @implements(contracts.send_to_slack)
    def send_to_slack(self, call: SlackCall) -> SlackSent:
        message = call.message
        try:
            return self._send(message, call.edit_ts, call.posted_again)
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown")
            if exc.response.status_code == 429 or error == "ratelimited":
                _count_rate_limited(exc.response.api_url)
                wait = int(exc.response.headers.get("Retry-After", "1") or 1)
                raise ApplicationError(
                    f"Slack asked to wait {wait}s",
                    type="RateLimited",
                    next_retry_delay=timedelta(seconds=wait),
                ) from None
            log.warning("Slack refused %s in %s: %s", message.key, message.channel, error)
            if error in PERMANENT:
                self._tell_instead(message, error, exc.response.get("needed"))
                raise ApplicationError(f"Slack: {error}", type="SlackRefused") from None
            raise ApplicationError(f"Slack: {error}", type="SlackError") from None

    def _send(self, message: OutgoingMessage, edit_ts: str | None, again: bool) -> SlackSent:
        channel = self._conversation(message.channel)
        if edit_ts is None and message.kind == MessageKind.card and channel != message.channel:
            # A DM to an approver is edited when its gate closes, maybe a day later, by an
            # outbox that has since gone idle and forgotten where it posted it.
            edit_ts = self._already_posted(message, channel)
        common = {"channel": channel, "text": message.text, "blocks": message.blocks}
        if message.private_to:
            self.client.chat_postEphemeral(
                **common, user=message.private_to, thread_ts=message.thread_ts
            )
            return SlackSent()
        if edit_ts:
            common = _noted(common, CARD_AGAIN) if again else common  # it keeps saying so
            return SlackSent(ts=self._edit(message, channel, common, edit_ts, again))
        if activity.info().attempt > 1 and (posted := self._already_posted(message, channel)):
            return SlackSent(ts=posted)
        return SlackSent(ts=self._post(message, channel, common))

    def _edit(
        self, message: OutgoingMessage, channel: str, common: dict, edit_ts: str, noted: bool
    ) -> str:
        """The card edited where it is; if it was deleted, posted again (once) instead,
        with a line saying so. Returns where the card is now, so later edits go there."""
        try:
            self.client.chat_update(**common, ts=edit_ts)
            return edit_ts
        except SlackApiError as exc:
            if exc.response.get("error") not in GONE:
                raise
        common = common if noted else _noted(common, CARD_AGAIN)
        again = self._already_posted(message, channel)  # an earlier attempt posted it again
        if again and again != edit_ts:
            self.client.chat_update(**common, ts=again)
            return again
        log.info("%s was deleted from %s; posting it again", message.key, channel)
        return self._post(message, channel, common)

    def _post(self, message: OutgoingMessage, channel: str, common: dict) -> str:
        """Posted with its key; in a thread whose first message is gone, on its own."""
        metadata = {"event_type": METADATA_TYPE, "event_payload": {"key": message.key}}
        try:
            return self.client.chat_postMessage(
                **common,
                thread_ts=message.thread_ts,
                reply_broadcast=bool(message.broadcast and message.thread_ts),
                unfurl_links=False,
                metadata=metadata,
            )["ts"]
        except SlackApiError as exc:
            if not message.thread_ts or exc.response.get("error") not in GONE:
                raise
        log.info("the thread of %s is gone from %s; posting it on its own", message.key, channel)
        note = THREAD_GONE
        if message.delivery_id:
            ui = f"{self.settings.temporal_ui_url}/namespaces/{self.settings.temporal_namespace}"
            link = workflow_url(ui, message.delivery_id)
            note += f" _It is about <{link}|delivery `{message.delivery_id}`>._"
        return self.client.chat_postMessage(
            **_noted(common, note), unfurl_links=False, metadata=metadata
        )["ts"]

    def _conversation(self, channel: str) -> str:
        """A message to a person goes to their DM with the bot: editing it later needs the
        DM's own id (D…), which Slack gives for the person's id (U…)."""
        if not channel.startswith(("U", "W")):
            return channel
        if channel not in self._direct:
            opened = self.client.conversations_open(users=channel)
            self._direct[channel] = opened["channel"]["id"]
        return self._direct[channel]

    def _already_posted(self, message: OutgoingMessage, channel: str) -> str | None:
        """The ts of this key's message, if an earlier attempt posted it."""
        found: dict = {}
        if message.thread_ts:
            try:
                found = self.client.conversations_replies(
                    channel=channel, ts=message.thread_ts, include_all_metadata=True
                ).data
            except SlackApiError as exc:  # the thread is gone: an answer went on its own
                if exc.response.get("error") not in GONE:
                    raise
        if not found.get("messages"):
            found = self.client.conversations_history(
                channel=channel, limit=200, include_all_metadata=True
            ).data
        for posted in found.get("messages", []):
            payload = (posted.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == message.key:
                return posted["ts"]
        return None

    def _tell_instead(self, message: OutgoingMessage, error: str, needed: str | None) -> None:
        advice = cannot_post_advice(message.channel, error, needed)
        if advice and message.on_behalf_of:
            try:
                self.client.chat_postMessage(channel=message.on_behalf_of, text=advice)
            except SlackApiError as second:
                log.error("could not DM %s either: %s", message.on_behalf_of, second)


def _noted(common: dict, note: str) -> dict:
    """The message with a line on top saying why it is where it is."""
    blocks = common.get("blocks")
    if blocks:
        context = {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}
        at = 1 if blocks[0].get("type") == "header" else 0  # under a card's title
        blocks = [*blocks[:at], context, *blocks[at:]]
    return {**common, "text": f"{note}\n{common['text']}", "blocks": blocks}
