"""*Approve with comment* and *Reject*: a modal asks for the words, then the decision goes.

The click opens the modal at once (Slack's trigger lives three seconds, so nothing is
asked of the workflow engine first). Sending it acks at once, closing the modal, and
makes the decision exactly as the click would have, from where the click was made; a
refusal is told to that person alone, like any refused click. An empty reason is sent
back to the modal as Slack's field error, so nobody rejects without saying why.
"""

from __future__ import annotations

import json
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands import Verb
from bot.decisions import Decisions, read_click
from slack_views.decision_modal import (
    APPROVE_WITH_COMMENT,
    WORDS_BLOCK,
    Opened,
    decision_modal,
    written_words,
)

log = logging.getLogger(__name__)


class DecisionModals:
    def __init__(self, decisions: Decisions):
        self.decisions = decisions

    async def on_click(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        click = read_click(body)
        if click is None:
            return
        opened = Opened(
            delivery_id=click.delivery_id,
            environment=click.environment,
            verb="approve" if body["actions"][0]["action_id"] == APPROVE_WITH_COMMENT else "reject",
            origin=click.how["origin"],
            channel=click.channel,
            message_ts=click.how["message_ts"],
            thread_ts=click.thread_ts,
        )
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=decision_modal(opened))
        except SlackApiError as exc:
            log.warning("could not open the decision modal: %s", exc.response.get("error"))

    async def on_submit(self, ack, body: dict, view: dict, client: AsyncWebClient) -> None:
        words = written_words(view)
        try:
            opened = Opened.from_metadata(view.get("private_metadata") or "")
        except (ValueError, TypeError, json.JSONDecodeError):
            await ack()
            log.warning("ignoring a decision modal with foreign metadata")
            return
        if opened.verb == "reject" and not words:
            await ack(response_action="errors", errors={WORDS_BLOCK: "Say why, in a few words."})
            return
        await ack()  # closes the modal; what follows may take longer than Slack's 3 s
        user = body["user"]["id"]
        turn = self.decisions.turn(
            client, opened.channel, opened.thread_ts, user, key=f"view:{user}:{view.get('id')}"
        )
        how = {"origin": opened.origin, "channel": opened.channel, "message_ts": opened.message_ts}
        await self.decisions.decide(
            turn, opened.delivery_id, Verb(opened.verb), opened.environment, words, how
        )
