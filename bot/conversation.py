"""Conversations: mentions, DMs and thread replies become deliveries, answers and decisions.

The bot holds no state. A thread finds its delivery through Temporal's search
attributes; a conversation without a delivery yet is re-read from Slack, so a restarted
bot (or another replica) carries on where the last one stopped.

Planning happens here, in the conversation: a request that needs a question is asked
in the thread before any work starts. Understanding blocks (rules, or an OpenAI call
that may take seconds), so it runs in a thread and the event loop keeps acking.
"""

from __future__ import annotations

import asyncio
import logging
import re

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from bot import answers, intents
from bot.intents import Intent, Reading
from bot.temporal_link import TemporalLink
from bot.turn import Turn
from shipmate import deliveries
from shipmate.settings import Settings
from shipmate.temporal import TemporalUnavailable
from understanding import understand
from workflows.models import DeliveryStatus, GateState

log = logging.getLogger(__name__)

ENGINE_DOWN = (
    ":warning: I can't reach the workflow engine right now, so nothing has started. Your "
    "request stays in this thread: reply `retry` here in a minute and I'll pick it up."
)
ENGINE_ERRORS = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)
QUESTIONS = (Intent.status, Intent.deployed, Intent.history, Intent.who_approved)
ASKED = re.compile(r"<@U[A-Z0-9]+> asked: (.*)", re.DOTALL)


class Conversations:
    def __init__(self, settings: Settings, temporal: TemporalLink):
        self.settings = settings
        self.temporal = temporal

    async def on_message(self, client: AsyncWebClient, event: dict) -> None:
        text = event.get("text", "")
        turn = Turn(
            client, event["channel"], event.get("thread_ts") or event["ts"], event.get("user", "")
        )
        reading = intents.read(text)
        if reading.intent == Intent.help:
            await turn.say(intents.HELP)  # needs no workflow engine
            return
        key = f"{event['channel']}:{event['ts']}"  # one delivery per message, however delivered
        try:
            temporal = await self.temporal.client()
            if event.get("thread_ts", event["ts"]) != event["ts"]:
                await self._thread_reply(
                    turn, temporal, reading, text, key, is_dm=event.get("channel_type") == "im"
                )
            else:
                await self._new_request(turn, temporal, reading, text, key)
        except (TemporalUnavailable, RPCError) as exc:
            if isinstance(exc, RPCError) and exc.status not in ENGINE_ERRORS:
                raise
            self.temporal.up = False
            log.warning("Temporal unavailable in %s/%s: %s", turn.channel, turn.thread_ts, exc)
            await turn.say(ENGINE_DOWN)

    async def on_command(self, client: AsyncWebClient, command: dict, respond) -> None:
        """`/shipmate TEXT`: Slack shows nobody the command, so the bot posts the request
        in the channel and answers in a thread under it, as for a mention."""
        text = command.get("text", "").strip() or "help"
        user, channel = command["user_id"], command["channel_id"]
        try:
            quoted = text.replace("<!", "&lt;!")  # no @channel or @here through the bot
            posted = await client.chat_postMessage(
                channel=channel, text=f"<@{user}> asked: {quoted}", unfurl_links=False
            )  # read back by ASKED when the thread is re-read
        except SlackApiError as exc:
            log.warning("cannot post /shipmate in %s: %s", channel, exc.response.get("error"))
            await respond(
                f"I'm not in <#{channel}>, so I can't start a thread there. Invite me with "
                "`/invite @shipmate`, or send me your request in a DM."
            )
            return
        event = {"channel": channel, "ts": posted["ts"], "user": user, "text": text}
        await self.on_message(client, event)

    async def _new_request(
        self, turn: Turn, temporal: Client, reading: Reading, text: str, key: str
    ) -> None:
        if reading.intent in QUESTIONS:
            await turn.say(await answers.answer(temporal, reading))
        elif reading.intent in (Intent.approve, Intent.reject, Intent.cancel, Intent.retry):
            await turn.say(
                f"To {reading.intent.value} a delivery, use the buttons on its card "
                "or reply in its thread."
            )
        else:
            await self._plan_and_start(turn, temporal, [text], key)

    async def _thread_reply(
        self, turn: Turn, temporal: Client, reading: Reading, text: str, key: str, is_dm: bool
    ) -> None:
        status = await answers.thread_delivery(temporal, turn.channel, turn.thread_ts)
        if status is None:
            ours, thread = await self._conversation(turn)
            if not ours and not is_dm:
                return  # a thread among people that Shipmate was never part of
            if reading.intent in (Intent.build, Intent.retry):
                await self._plan_and_start(turn, temporal, thread or [text], key)
            else:
                await turn.say(await answers.answer(temporal, reading))
            return
        if reading.intent == Intent.status:
            await turn.say(answers.describe_delivery(status))
        elif reading.intent in (Intent.approve, Intent.reject):
            await self._decide(turn, temporal, status, reading)
        elif reading.intent in (Intent.cancel, Intent.retry):
            await self._cancel_or_retry(turn, temporal, status.delivery_id, reading)
        elif reading.intent == Intent.build:
            await self._change(turn, temporal, status, text, key)
        else:
            await turn.say(await answers.answer(temporal, reading))

    async def _plan_and_start(
        self, turn: Turn, temporal: Client, thread: list[str], key: str
    ) -> None:
        plan = await asyncio.to_thread(understand, self.settings, thread)
        notes = "".join(f"_{note}_\n" for note in plan.notes)
        if plan.spec is None:
            questions = "\n".join(f"{n}. {q}" for n, q in enumerate(plan.questions, 1))
            await turn.say(f"{notes}Before I start:\n{questions}\nAnswer here in the thread.")
            return
        try:
            ticket = await deliveries.request_change(
                temporal,
                self.settings,
                "\n".join(thread),
                plan.spec,
                turn.user,
                channel=turn.channel,
                thread_ts=turn.thread_ts,
                request_key=key,
            )
        except deliveries.DecisionRefused as exc:
            await turn.say(f":warning: {exc}")
            return
        assumed = f"\n_Assumed: {'; '.join(plan.defaults)}_" if plan.defaults else ""
        queued = f" (queued behind {ticket.queued_behind})" if ticket.queued_behind else ""
        await turn.say(
            f"{notes}On it: *{plan.spec.name}*, delivery `{ticket.delivery_id}`{queued}.{assumed}"
        )

    async def _change(
        self, turn: Turn, temporal: Client, status: DeliveryStatus, text: str, key: str
    ) -> None:
        """'also add a status field to orders' in a delivery's thread: the next version."""
        base = await deliveries.current_spec(temporal, status.service) or status.spec
        plan = await asyncio.to_thread(understand, self.settings, [text], base)
        if plan.spec is None:
            await turn.say("\n".join(plan.questions))
            return
        ticket = await deliveries.request_change(
            temporal,
            self.settings,
            text,
            plan.spec,
            turn.user,
            channel=turn.channel,
            thread_ts=turn.thread_ts,
            request_key=key,
        )
        diff = "\n".join(f"`{line}`" for line in plan.diff)
        await turn.say(f"Next version of *{plan.spec.name}* (`{ticket.delivery_id}`):\n{diff}")

    async def _decide(
        self, turn: Turn, temporal: Client, status: DeliveryStatus, reading: Reading
    ) -> None:
        env = reading.environment or next(
            (g.environment for g in status.gates if g.state == GateState.open), None
        )
        if env is None:
            await turn.tell_privately("There is no gate waiting for a decision in this delivery.")
            return
        try:
            gate = await deliveries.decide(
                temporal,
                status.delivery_id,
                turn.user,
                env,
                approve=reading.intent == Intent.approve,
                reason=reading.reason,
            )
        except deliveries.DecisionRefused as exc:
            await turn.tell_privately(f":no_entry: {exc}")
            return
        # The thread hears of it from the workflow, as for a click, so it is said once.
        log.info("%s decided %s on %s: %s", turn.user, env, status.delivery_id, gate.summary())

    async def _cancel_or_retry(
        self, turn: Turn, temporal: Client, delivery_id: str, reading: Reading
    ) -> None:
        try:
            if reading.intent == Intent.cancel:
                await deliveries.cancel(temporal, delivery_id, turn.user, reading.reason)
            else:
                await deliveries.retry(temporal, delivery_id, turn.user)
        except deliveries.DecisionRefused as exc:
            await turn.tell_privately(f":no_entry: {exc}")

    async def _conversation(self, turn: Turn) -> tuple[bool, list[str]]:
        """Whether Shipmate is part of this thread, and the requests people made in it.

        Slack keeps the conversation; re-reading it is what lets a restarted bot continue.
        """
        replies = await turn.client.conversations_replies(
            channel=turn.channel, ts=turn.thread_ts, limit=200
        )
        bot = (await turn.client.auth_test())["user_id"]
        messages = replies.get("messages", [])
        ours = any(m.get("user") == bot or f"<@{bot}>" in m.get("text", "") for m in messages)
        people = [
            m.get("text", "") for m in messages if not m.get("bot_id") and m.get("user") != bot
        ]
        asked = [
            found.group(1)
            for m in messages[:1]  # a /shipmate request, posted by the bot as the thread's start
            if m.get("user") == bot and (found := ASKED.match(m.get("text", "")))
        ]
        return ours, [t for t in asked + people if intents.read(t).intent == Intent.build]
