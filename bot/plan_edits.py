"""*Edit…* on a plan that waits: a modal holding the plan text. Sent, it is read exactly;
a plan that does not read is sent back to the modal with the line and the reason (Slack's
field error), so nothing half-read is built. A plan that reads is said in the thread as
the person's answer, as *Build it* would, and the thread is read again.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.answer_buttons import AnswerButtons
from bot.turn import clicked_where
from slack_views.plan_check import PLAN_BLOCK, plan_modal, where_from, written_plan
from understanding.plan_language import PlanLanguageError, read

log = logging.getLogger(__name__)


class PlanEdits:
    def __init__(self, answers: AnswerButtons):
        self.answers = answers

    async def on_click(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        channel, container, message = clicked_where(body)
        message_ts = container.get("message_ts") or message.get("ts")
        thread_ts = message.get("thread_ts") or container.get("thread_ts") or message_ts
        plan = str(body["actions"][0].get("value", ""))
        if not channel or not thread_ts:
            return
        try:
            view = plan_modal(plan, channel, thread_ts, message_ts)
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as exc:
            log.warning("could not open the plan modal: %s", exc.response.get("error"))

    async def on_submit(self, ack, body: dict, view: dict, client: AsyncWebClient) -> None:
        where = where_from(view)
        if where is None:
            await ack()
            log.warning("ignoring a plan modal with foreign metadata")
            return
        plan = written_plan(view)
        try:
            read(plan)
        except PlanLanguageError as exc:
            await ack(response_action="errors", errors={PLAN_BLOCK: str(exc)[:150]})
            return
        await ack()  # closes the modal; planning and starting may take longer
        message = await self._message(client, where)
        await self.answers.answer(
            client,
            body["user"]["id"],
            plan,
            where["channel"],
            where["thread_ts"],
            where.get("message_ts") if message else None,
            message or {},
        )

    async def _message(self, client: AsyncWebClient, where: dict) -> dict | None:
        """The plan's message, so its buttons come off: nobody builds the old plan too."""
        try:
            replies = await client.conversations_replies(
                channel=where["channel"], ts=where["thread_ts"], limit=200
            )
        except SlackApiError as exc:
            log.warning("cannot read the plan's thread: %s", exc.response.get("error"))
            return None
        return next(
            (m for m in replies.get("messages", []) if m.get("ts") == where.get("message_ts")),
            None,
        )
