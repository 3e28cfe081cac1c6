"""Which request texts an answer may quote. "history of orders-api" reads out what people
asked for, and a request written in a private channel or a direct message must not be
read out in another conversation: there it shows as "(asked in a private conversation)".

A text is quoted where it was written, and anywhere when it was written in a public
channel or on the command line. Anything Slack cannot vouch for stays private.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

PRIVATE = "(asked in a private conversation)"


class Quoting:
    """For one answer in one conversation: may it quote a text written in `channel`?"""

    def __init__(self, slack: AsyncWebClient | None, here: str | None):
        self.slack, self.here = slack, here
        self._public: dict[str, bool] = {}

    async def may_quote(self, channel: str | None) -> bool:
        if channel is None or channel == self.here:
            return True  # the command line, or this very conversation
        if channel not in self._public:
            self._public[channel] = await self._is_public(channel)
        return self._public[channel]

    async def _is_public(self, channel: str) -> bool:
        if self.slack is None:
            return False
        try:
            info = (await self.slack.conversations_info(channel=channel))["channel"]
        except SlackApiError as exc:
            log.info("could not tell whether %s is public: %s", channel, exc.response.get("error"))
            return False
        private = info.get("is_private") or info.get("is_im") or info.get("is_mpim")
        return bool(info.get("is_channel")) and not private
