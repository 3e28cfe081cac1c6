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
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from bot import answers, intents, name_clash
from bot.commands import UNDOING, Verb, parse_command, sounds_like_decision
from bot.decisions import Decisions
from bot.intents import MODES, Intent
from bot.optimizations import Optimizations, wants_load
from bot.publisher_questions import publisher_answers
from bot.quoting import Quoting
from bot.reviews import Reviews, asks_to_apply
from bot.speakers import developer_refusal
from bot.temporal_link import TemporalLink
from bot.turn import Turn
from bot.undo_commands import ask_to_undo
from shipmate import delivery_client
from shipmate.consumers import PublisherProblem, with_publishers
from shipmate.people import Directory
from shipmate.settings import Settings
from shipmate.temporal import TemporalUnavailable
from slack_views.plan import plan_text, question_blocks, spec_summary
from slack_views.plan_check import MAX_PLAN, plan_to_check
from slack_views.text import escape, unescape
from understanding import spec_diff, understand
from understanding.plan_language import render, starts_like_a_plan
from understanding.review_request import is_review
from workflows.models import DeliveryStatus
from workflows.unreadable import UNREADABLE_TEXT, unreadable

log = logging.getLogger(__name__)

ENGINE_DOWN = (
    ":warning: I can't reach the workflow engine right now, so nothing has started. Your "
    "request stays in this thread: reply `retry` here in a minute and I'll pick it up."
)
ENGINE_ERRORS = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)
QUESTIONS = (Intent.status, Intent.deployed, Intent.history, Intent.who_approved)
SOUNDS_LIKE_DECISION = (Intent.approve, Intent.reject, Intent.cancel, Intent.retry)
# In a delivery's thread these are change requests, even when a word in them sounds
# like a decision ("add an approved flag to expenses").
CHANGE_WORDS = re.compile(r"\b(add|remove|drop|rename|field|fields|entity|column|also)\b", re.I)
ASKED = re.compile(r"<@U[A-Z0-9]+> asked: (.*)", re.DOTALL)
# An answer given with a button, posted by the bot in the person's name.
ANSWERED = re.compile(r"<@U[A-Z0-9]+> answered: (.*)", re.DOTALL)


def _a_change(text: str) -> bool:
    """'add an approved flag', or a plan typed out, is a change whatever words it holds."""
    return bool(CHANGE_WORDS.search(text)) or starts_like_a_plan(unescape(text))


class Conversations:
    def __init__(
        self, settings: Settings, temporal: TemporalLink, directory: Directory, decisions: Decisions
    ):
        self.settings = settings
        self.temporal = temporal
        self.directory = directory
        self.decisions = decisions
        self.reviews = Reviews(settings, temporal)
        self.optimizations = Optimizations(settings, temporal, directory)

    async def on_message(self, client: AsyncWebClient, event: dict, addressed: bool) -> None:
        """`addressed`: a mention, a DM or a slash command; otherwise a reply in a thread,
        which Shipmate answers only when the thread is its own."""
        text = event.get("text", "")
        turn = Turn(
            client,
            event["channel"],
            event.get("thread_ts") or event["ts"],
            event.get("user", ""),
            key=f"{event['channel']}:{event['ts']}",  # one delivery per message, however delivered
            message_ts=event["ts"],
            temporal=self.temporal,
            task_queue=self.settings.task_queue,
            files=event.get("files") or [],
        )
        in_thread = event.get("thread_ts", event["ts"]) != event["ts"]
        if addressed:
            await turn.react()
        if not in_thread and not unreadable(text) and intents.read(text).intent == Intent.help:
            await turn.say(intents.HELP)
            return
        try:
            temporal = await self.temporal.client()
            if in_thread:
                await self._thread_reply(turn, temporal, text, addressed)
            else:
                await self._new_request(turn, temporal, text)
        except (TemporalUnavailable, RPCError) as exc:
            if isinstance(exc, RPCError) and exc.status not in ENGINE_ERRORS:
                raise
            self.temporal.up = False
            log.warning("Temporal unavailable in %s/%s: %s", turn.channel, turn.thread_ts, exc)
            if addressed:
                await turn.say(ENGINE_DOWN)

    async def on_command(self, client: AsyncWebClient, command: dict, respond) -> None:
        """`/shipmate TEXT`: Slack shows nobody the command, so the bot posts the request
        in the channel and answers in a thread under it, as for a mention."""
        text = command.get("text", "").strip() or "help"
        user, channel = command["user_id"], command["channel_id"]
        if unreadable(text):
            await respond(UNREADABLE_TEXT)
            return
        try:
            posted = await client.chat_postMessage(
                channel=channel, text=f"<@{user}> asked: {escape(text)}", unfurl_links=False
            )  # read back by ASKED when the thread is re-read
        except SlackApiError as exc:
            log.warning("cannot post /shipmate in %s: %s", channel, exc.response.get("error"))
            await respond(
                f"I'm not in <#{channel}>, so I can't start a thread there. Invite me with "
                "`/invite @shipmate`, or send me your request in a DM."
            )
            return
        event = {"channel": channel, "ts": posted["ts"], "user": user, "text": text}
        await self.on_message(client, event, addressed=True)

    async def _new_request(self, turn: Turn, temporal: Client, text: str) -> None:
        if unreadable(text):
            await turn.say(UNREADABLE_TEXT)
            return
        reading = intents.read(text)
        if (command := parse_command(text)) and command.verb in UNDOING:
            await self._undo(turn, temporal, command, None)
        elif command:
            await self.decisions.run(turn, temporal, command, None)
        elif reading.intent in SOUNDS_LIKE_DECISION:
            await turn.say(
                f"To {reading.intent.value} a delivery, use the buttons on its card, or say "
                f"`@shipmate {reading.intent.value} <service> <environment>`."
            )
        elif reading.intent in QUESTIONS:
            await turn.say(
                await answers.answer(temporal, reading, Quoting(turn.client, turn.channel))
            )
        elif wants_load(reading.intent, text):
            await self.optimizations.start(turn, temporal, text, None)
        elif is_review(text, bool(turn.files)):
            await self.reviews.start(turn, temporal, text, turn.files, None)
        elif reading.intent in MODES:
            await turn.say(reading.reason)
        else:
            await self._plan_and_start(turn, temporal, [text])

    async def _thread_reply(self, turn: Turn, temporal: Client, text: str, addressed: bool) -> None:
        status = await answers.thread_delivery(temporal, turn.channel, turn.thread_ts)
        if status is None:
            ours, thread = await self._conversation(turn)
            if not ours and not addressed:
                return  # a thread among people that Shipmate was never part of
            await self._before_delivery(turn, temporal, text, thread, addressed)
            return
        if unreadable(text):
            await turn.say(UNREADABLE_TEXT)
            return
        reading = intents.read(text)
        command = parse_command(text) if addressed else None
        if addressed and asks_to_apply(text) and await self._apply_from_text(turn, temporal):
            return
        if command and command.verb in UNDOING:
            await self._undo(turn, temporal, command, status)
        elif command:
            await self.decisions.run(turn, temporal, command, status)
        elif (verb := sounds_like_decision(text)) and not _a_change(text):
            await self.decisions.ask_privately(turn, status, verb)
        elif reading.intent == Intent.help:
            await turn.say(intents.HELP)
        elif reading.intent == Intent.status:
            await turn.say(answers.describe_delivery(status))
        elif addressed and wants_load(reading.intent, text):
            await self.optimizations.start(turn, temporal, text, status.service)
        elif addressed and is_review(text, bool(turn.files)):
            await self.reviews.start(turn, temporal, text, turn.files, status.service)
        elif reading.intent == Intent.build:
            await self._change(turn, temporal, status, text, addressed)
        elif reading.intent in MODES:
            if addressed:
                await turn.say(reading.reason)
        else:
            await turn.say(
                await answers.answer(temporal, reading, Quoting(turn.client, turn.channel))
            )

    async def _before_delivery(
        self, turn: Turn, temporal: Client, text: str, thread: list[str], addressed: bool
    ) -> None:
        """A thread of Shipmate's with no delivery yet: answers to its questions, a
        `retry` after the engine was down, or questions about what runs."""
        if unreadable(text):
            await turn.say(UNREADABLE_TEXT)
            return
        reading = intents.read(text)
        again = sounds_like_decision(text) == Verb.retry
        command = parse_command(text) if addressed else None  # only said to Shipmate
        if addressed and asks_to_apply(text) and await self._apply_from_text(turn, temporal):
            return
        if reading.intent == Intent.help:
            await turn.say(intents.HELP)
        elif command and command.verb in UNDOING:  # e.g. a button's "did you mean …?"
            await self._undo(turn, temporal, command, None)
        elif wants_load(reading.intent, text):
            await self.optimizations.start(turn, temporal, text, None)
        elif is_review(text, addressed and bool(turn.files)):
            await self.reviews.start(turn, temporal, text, turn.files, None)
        elif reading.intent in MODES:
            await turn.say(reading.reason)
        elif reading.intent == Intent.build or again:
            await self._plan_and_start(turn, temporal, thread or [text])
        else:
            await turn.say(
                await answers.answer(temporal, reading, Quoting(turn.client, turn.channel))
            )

    async def _apply_from_text(self, turn: Turn, temporal: Client) -> bool:
        """'apply' in the thread of a review or of a load test; False: neither is here."""
        if await self.reviews.apply_from_text(turn, temporal):
            return True
        return await self.optimizations.apply_from_text(turn, temporal)

    async def _plan_and_start(self, turn: Turn, temporal: Client, thread: list[str]) -> None:
        if await self._not_a_developer(turn):
            return
        choice, thread = name_clash.answered(thread)
        plan = await asyncio.to_thread(understand, self.settings, thread)
        notes = "".join(f"_{escape(note)}_\n" for note in plan.notes)
        if plan.spec is None:
            plan.questions, plan.choices = await publisher_answers(
                temporal, plan.questions, plan.choices
            )
            questions = "\n".join(f"{n}. {escape(q)}" for n, q in enumerate(plan.questions, 1))
            text = f"{notes}Before I start:\n{questions}\nAnswer here in the thread."
            if plan.choices:  # the same words, with a button for each of the few answers
                lead = SectionBlock(text=MarkdownTextObject(text=f"{notes}Before I start:"))
                blocks = [lead, *question_blocks(plan.questions, plan.choices)]
                await turn.say_with_blocks(text, blocks)
            else:
                await turn.say(text)
            return
        spec = plan.spec
        unread = [note for note in plan.notes if note.startswith("I didn't use")]
        if unread and len(render(spec)) <= MAX_PLAN:
            # something was said that Shipmate did not read: nothing starts unseen
            await turn.say_with_blocks(*plan_to_check(spec, plan.notes))
            return
        if choice is not None and not choice.change:
            spec = spec.model_copy(update={"name": choice.name})
        running = await delivery_client.current_spec(temporal, spec.name)
        changing = running is not None and choice == name_clash.NameChoice(spec.name, True)
        if running is not None and not changing:
            elsewhere = await name_clash.free_name(temporal, spec.name)
            await turn.say_with_blocks(*name_clash.question(spec.name, running, elsewhere))
            return
        try:
            spec = await with_publishers(temporal, spec)
            ticket = await delivery_client.request_change(
                temporal,
                self.settings,
                "\n".join(thread),
                spec,
                turn.user,
                channel=turn.channel,
                thread_ts=turn.thread_ts,
                request_key=turn.key,
                directory=self.directory,
                new_service=not changing,
            )
        except delivery_client.DecisionRefused as exc:
            await turn.tell_privately(f":no_entry: {exc}")  # for the person who asked
            return
        except PublisherProblem as exc:
            await turn.say(escape(str(exc)))
            return
        if changing:
            diff = "\n".join(f"`{escape(line)}`" for line in spec_diff(running, spec))
            await turn.say(f"Next version of *{spec.name}* (`{ticket.delivery_id}`):\n{diff}")
            return
        assumed = f"\n_Assumed: {escape('; '.join(plan.defaults))}_" if plan.defaults else ""
        queued = f" (queued behind {ticket.queued_behind})" if ticket.queued_behind else ""
        await turn.say(
            f"On it: *{spec.name}*, delivery `{ticket.delivery_id}`{queued}.\n"
            f"{spec_summary(spec)}\n{notes}{assumed}".rstrip()
            + plan_text(spec)
        )

    async def _change(
        self,
        turn: Turn,
        temporal: Client,
        status: DeliveryStatus,
        text: str,
        addressed: bool,
    ) -> None:
        """'also add a status field to orders' in a delivery's thread: the next version.
        People also just talk in these threads ("thanks!"): what reads as no change at
        all gets a question only when it was said to Shipmate."""
        if await self._not_a_developer(turn):
            return
        base = await delivery_client.current_spec(temporal, status.service) or status.spec
        plan = await asyncio.to_thread(understand, self.settings, [text], base)
        if plan.spec is None:
            if addressed:
                await turn.say(escape("\n".join(plan.questions)))
            return
        try:
            ticket = await delivery_client.request_change(
                temporal,
                self.settings,
                text,
                await with_publishers(temporal, plan.spec),
                turn.user,
                channel=turn.channel,
                thread_ts=turn.thread_ts,
                request_key=turn.key,
                directory=self.directory,
                new_service=False,
            )
        except delivery_client.DecisionRefused as exc:
            await turn.tell_privately(f":no_entry: {exc}")
            return
        except PublisherProblem as exc:
            await turn.say(escape(str(exc)))
            return
        diff = "\n".join(f"`{escape(line)}`" for line in plan.diff)
        await turn.say(f"Next version of *{plan.spec.name}* (`{ticket.delivery_id}`):\n{diff}")

    async def _not_a_developer(self, turn: Turn) -> bool:
        """Refused privately before any planning (the workflow would refuse it too)."""
        refusal = await developer_refusal(self.settings, self.directory, turn.user)
        if refusal:
            await turn.tell_privately(refusal)
        return refusal is not None

    async def _undo(self, turn: Turn, temporal: Client, command, status) -> None:
        await ask_to_undo(turn, temporal, self.settings, self.directory, command, status)

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
        said = []
        for place, m in enumerate(messages):
            text = m.get("text", "")
            if m.get("user") == bot or m.get("bot_id"):
                # a /shipmate request starts the thread; button answers come later
                found = (ASKED if place == 0 else ANSWERED).match(text)
                if m.get("user") == bot and found:
                    said.append(unescape(found.group(1)))
            elif not unreadable(text):
                said.append(text)
        return ours, [t for t in said if intents.read(t).intent == Intent.build]
