"""A click on one of the few answers under a question Shipmate asked before starting
("NestJS isn't built yet. Shall I build it with FastAPI?" [Yes, FastAPI]).

The click becomes what typing the answer would be: the bot says in the thread who
answered what (so re-reading the thread after a restart finds the answer), takes the
buttons off the question so nobody answers twice, and reads the thread again.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import Conversations
from bot.turn import clicked_where
from slack_views.plan_check import MAX_PLAN
from slack_views.text import escape
from understanding.plan_language import starts_like_a_plan
from workflows.unreadable import unreadable

log = logging.getLogger(__name__)


class AnswerButtons:
    def __init__(self, conversations: Conversations):
        self.conversations = conversations

    async def on_click(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()  # at once: planning may take longer than Slack's 3 s
        action, user = body["actions"][0], body["user"]["id"]
        channel, container, message = clicked_where(body)
        question_ts = container.get("message_ts") or message.get("ts")
        thread_ts = message.get("thread_ts") or container.get("thread_ts") or question_ts
        await self.answer(
            client, user, str(action.get("value", "")), channel, thread_ts, question_ts, message
        )

    async def answer(
        self,
        client: AsyncWebClient,
        user: str,
        value: str,
        channel: str | None,
        thread_ts: str | None,
        question_ts: str | None,
        message: dict,
    ) -> None:
        """Say the answer in the thread as the person's, take the buttons off the question
        (nobody answers twice), and read the thread again. A plan (from *Build it* or the
        Edit modal) travels whole, in a code block; any other answer is one short line."""
        plan = starts_like_a_plan(value)
        answer = value.strip()[:MAX_PLAN] if plan else " ".join(value.split())[:200]
        if not channel or not thread_ts or not answer or unreadable(answer):
            log.warning("ignoring an answer click without a thread or an answer in %s", channel)
            return
        said = f"<@{user}> answered: " + (f"```\n{escape(answer)}\n```" if plan else escape(answer))
        shown = f"<@{user}> answered: the plan below" if plan else said
        try:
            if question_ts:
                await client.chat_update(
                    channel=channel,
                    ts=question_ts,
                    text=message.get("text", "") or said,
                    blocks=[b for b in message.get("blocks", []) if b.get("type") != "actions"]
                    + [{"type": "context", "elements": [{"type": "mrkdwn", "text": shown}]}],
                )
            posted = await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=said)
        except SlackApiError as exc:
            log.warning("cannot record an answer in %s: %s", channel, exc.response.get("error"))
            return
        event = {
            "channel": channel,
            "ts": posted["ts"],
            "thread_ts": thread_ts,
            "user": user,
            "text": answer,
        }
        await self.conversations.on_message(client, event, addressed=True)
