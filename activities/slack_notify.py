"""The `notify` activity: keep the delivery's status card current and announce moments.

Called by the workflow with the newest status (edits are coalesced there). It posts the
card once and edits it after; important moments become thread replies. Slack's 429s
are waited out (slack_sdk's retry handler); any other Slack failure is logged and left
to Temporal's retries: it never fails a delivery.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from temporalio.exceptions import ApplicationError

from shipmate.settings import Settings
from slack_views.card import card_text, status_card
from slack_views.thread import announcement
from workflows import activity_contracts as contracts
from workflows.activity_contracts import implements
from workflows.models import NotifyInput, NotifyResult

log = logging.getLogger(__name__)

# Errors retrying cannot fix: say so once in the worker log, do not hammer Slack.
PERMANENT = {
    "not_in_channel",
    "channel_not_found",
    "invalid_auth",
    "missing_scope",
    "account_inactive",
    "is_archived",
}


class SlackNotifier:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._client: WebClient | None = None

    @property
    def client(self) -> WebClient:
        if self._client is None:
            token = self.settings.slack_bot_token
            self._client = WebClient(
                token=token.get_secret_value() if token else None,
                base_url=self.settings.slack_api_url or WebClient.BASE_URL,
                retry_handlers=[
                    RateLimitErrorRetryHandler(max_retry_count=5),
                    ConnectionErrorRetryHandler(max_retry_count=2),
                ],
            )
        return self._client

    @implements(contracts.notify)
    def notify(self, update: NotifyInput) -> NotifyResult:
        if self.settings.slack_bot_token is None or not update.channel:
            log.info("no Slack token or channel; %s not posted", update.status.delivery_id)
            return NotifyResult(card_ts=update.card_ts)
        status = update.status
        ui = f"{self.settings.temporal_ui_url}/namespaces/{self.settings.temporal_namespace}"
        blocks = [b.to_dict() for b in status_card(status, ui)]
        try:
            if update.card_ts:
                self.client.chat_update(
                    channel=update.channel, ts=update.card_ts, text=card_text(status), blocks=blocks
                )
                card_ts = update.card_ts
            else:
                posted = self.client.chat_postMessage(
                    channel=update.channel,
                    thread_ts=update.thread_ts,
                    text=card_text(status),
                    blocks=blocks,
                )
                card_ts = posted["ts"]
            for moment in update.announce:
                text = announcement(status, moment)
                if text:
                    self.client.chat_postMessage(
                        channel=update.channel, thread_ts=update.thread_ts or card_ts, text=text
                    )
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown")
            log.warning("Slack refused an update of %s: %s", status.delivery_id, error)
            raise ApplicationError(
                f"Slack: {error}", type="SlackError", non_retryable=error in PERMANENT
            ) from None
        return NotifyResult(card_ts=card_ts)
