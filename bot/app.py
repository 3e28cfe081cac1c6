"""The Slack bot: mentions, DMs and thread replies become deliveries; buttons become updates.

It holds no state of its own. A thread finds its delivery through Temporal's search
attributes, a conversation that has no delivery yet is re-read from Slack, and every
button carries its workflow id, so a restarted bot (or another replica) carries on.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.settings import Settings
from activities.understanding import understand
from bot import answers, deliveries, intents, status_report, views
from bot.intents import Intent
from bot.temporal import TemporalUnavailable, connect
from workflows.models import DeliveryState, DeliveryStatus

log = logging.getLogger(__name__)

ENGINE_DOWN = (
    ":warning: I can't reach the workflow engine right now, so nothing has started. Your "
    "request stays in this thread: reply `retry` here in a minute and I'll pick it up."
)


class TemporalLink:
    """A lazily (re)connected Temporal client, so the bot starts even while Temporal is down."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._client: Client | None = None
        self.up = False

    async def client(self) -> Client:
        if self._client is None:
            self._client = await connect(self.settings)
        self.up = True
        return self._client

    async def check(self) -> bool:
        try:
            client = await self.client()
            await client.service_client.check_health()
            self.up = True
        except (TemporalUnavailable, RPCError, RuntimeError):
            self.up = False
        return self.up


def slack_client(settings: Settings) -> AsyncWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url or AsyncWebClient.BASE_URL,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=5)],
    )


def build_app(settings: Settings, temporal: TemporalLink, **app_options) -> AsyncApp:
    app = AsyncApp(client=slack_client(settings), **app_options)
    bot = Conversations(settings, temporal)

    @app.event("app_mention")
    async def on_mention(event, client):
        await bot.on_message(client, event)

    @app.event("message")
    async def on_message(event, client, context):
        if event.get("subtype") or event.get("bot_id"):
            return  # edits, joins, and bots (including this one)
        mentioned = f"<@{context.bot_user_id}>" in event.get("text", "")
        is_dm = event.get("channel_type") == "im"
        if is_dm or (event.get("thread_ts") and not mentioned):
            await bot.on_message(client, event)

    for action in ("approve", "reject", "cancel", "retry"):
        app.action(action)(bot.on_button)

    @app.event("app_home_opened")
    async def on_home(event, client):
        await bot.publish_home(client, event["user"])

    @app.error
    async def on_error(error, body):
        log.error("unhandled error for %s: %s", body.get("type") if body else "?", error)

    return app


class Conversations:
    def __init__(self, settings: Settings, temporal: TemporalLink):
        self.settings = settings
        self.temporal = temporal
        self.ui = f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}"

    # Messages

    async def on_message(self, client: AsyncWebClient, event: dict) -> None:
        channel, user, text = event["channel"], event.get("user", ""), event.get("text", "")
        thread_ts = event.get("thread_ts") or event["ts"]
        in_thread = "thread_ts" in event and event["thread_ts"] != event["ts"]
        if intents.read(text).intent == Intent.help:
            await self._say(client, channel, thread_ts, user, intents.HELP)  # needs no engine
            return
        try:
            temporal = await self.temporal.client()
            if in_thread:
                await self._thread_reply(client, temporal, event, thread_ts)
            else:
                await self._new_request(
                    client, temporal, channel, thread_ts, user, text, event["ts"]
                )
        except (TemporalUnavailable, RPCError) as exc:
            if isinstance(exc, RPCError) and exc.status not in (
                RPCStatusCode.UNAVAILABLE,
                RPCStatusCode.DEADLINE_EXCEEDED,
            ):
                raise
            self.temporal.up = False
            log.warning("Temporal unavailable while answering %s/%s: %s", channel, thread_ts, exc)
            await self._say(client, channel, thread_ts, user, ENGINE_DOWN)

    async def _new_request(
        self,
        client,
        temporal: Client,
        channel: str,
        thread_ts: str,
        user: str,
        text: str,
        event_ts: str,
    ) -> None:
        reading = intents.read(text)
        if reading.intent == Intent.help:
            await self._say(client, channel, thread_ts, user, intents.HELP)
        elif reading.intent in (
            Intent.status,
            Intent.deployed,
            Intent.history,
            Intent.who_approved,
        ):
            await self._say(
                client, channel, thread_ts, user, await answers.answer(temporal, reading)
            )
        elif reading.intent in (Intent.approve, Intent.reject, Intent.cancel, Intent.retry):
            await self._say(
                client,
                channel,
                thread_ts,
                user,
                f"To {reading.intent.value} a delivery, use the buttons on its card "
                "or reply in its thread.",
            )
        else:
            await self._plan_and_start(
                client, temporal, channel, thread_ts, user, [text], key=f"{channel}:{event_ts}"
            )

    async def _thread_reply(self, client, temporal: Client, event: dict, thread_ts: str) -> None:
        channel, user, text = event["channel"], event.get("user", ""), event.get("text", "")
        reading = intents.read(text)
        status = await answers.thread_delivery(temporal, channel, thread_ts)
        if status is None:
            ours, thread = await self._conversation(client, channel, thread_ts)
            if not ours and event.get("channel_type") != "im":
                return  # a thread among people that Shipmate was never part of
            if reading.intent in (Intent.build, Intent.retry):
                await self._plan_and_start(
                    client,
                    temporal,
                    channel,
                    thread_ts,
                    user,
                    thread or [text],
                    key=f"{channel}:{event['ts']}",
                )
            elif reading.intent == Intent.help:
                await self._say(client, channel, thread_ts, user, intents.HELP)
            else:
                await self._say(
                    client, channel, thread_ts, user, await answers.answer(temporal, reading)
                )
            return
        if reading.intent == Intent.status:
            await self._say(client, channel, thread_ts, user, answers.describe_delivery(status))
        elif reading.intent in (Intent.approve, Intent.reject):
            await self._decide(client, temporal, status, user, channel, thread_ts, reading)
        elif reading.intent in (Intent.cancel, Intent.retry):
            await self._cancel_or_retry(
                client,
                temporal,
                status.delivery_id,
                user,
                channel,
                thread_ts,
                reading.intent,
                reading.reason,
            )
        elif reading.intent == Intent.help:
            await self._say(client, channel, thread_ts, user, intents.HELP)
        elif reading.intent == Intent.build:
            await self._change(
                client,
                temporal,
                status,
                channel,
                thread_ts,
                user,
                text,
                key=f"{channel}:{event['ts']}",
            )
        else:
            await self._say(
                client, channel, thread_ts, user, await answers.answer(temporal, reading)
            )

    async def _plan_and_start(
        self,
        client,
        temporal: Client,
        channel: str,
        thread_ts: str,
        user: str,
        thread: list[str],
        key: str,
    ) -> None:
        plan = understand(self.settings, thread)
        notes = "".join(f"_{note}_\n" for note in plan.notes)
        if plan.spec is None:
            questions = "\n".join(f"{n}. {q}" for n, q in enumerate(plan.questions, 1))
            await self._say(
                client,
                channel,
                thread_ts,
                user,
                f"{notes}Before I start:\n{questions}\nAnswer here in the thread.",
            )
            return
        try:
            ticket = await deliveries.request_change(
                temporal,
                self.settings,
                "\n".join(thread),
                plan.spec,
                user,
                channel=channel,
                thread_ts=thread_ts,
                request_key=key,
            )
        except deliveries.DecisionRefused as exc:
            await self._say(client, channel, thread_ts, user, f":warning: {exc}")
            return
        assumed = f"\n_Assumed: {'; '.join(plan.defaults)}_" if plan.defaults else ""
        queued = f" (queued behind {ticket.queued_behind})" if ticket.queued_behind else ""
        await self._say(
            client,
            channel,
            thread_ts,
            user,
            f"{notes}On it: *{plan.spec.name}*, delivery `{ticket.delivery_id}`{queued}.{assumed}",
        )

    async def _change(
        self,
        client,
        temporal: Client,
        status: DeliveryStatus,
        channel: str,
        thread_ts: str,
        user: str,
        text: str,
        key: str,
    ) -> None:
        base = await deliveries.current_spec(temporal, status.service) or status.spec
        plan = understand(self.settings, [text], base)
        if plan.spec is None:
            await self._say(client, channel, thread_ts, user, "\n".join(plan.questions))
            return
        ticket = await deliveries.request_change(
            temporal,
            self.settings,
            text,
            plan.spec,
            user,
            channel=channel,
            thread_ts=thread_ts,
            request_key=key,
        )
        diff = "\n".join(f"`{line}`" for line in plan.diff)
        await self._say(
            client,
            channel,
            thread_ts,
            user,
            f"Next version of *{plan.spec.name}* (`{ticket.delivery_id}`):\n{diff}",
        )

    async def _decide(self, client, temporal, status, user, channel, thread_ts, reading) -> None:
        env = reading.environment or next(
            (g.environment for g in status.gates if g.state == "open"), None
        )
        if env is None:
            await self._ephemeral(
                client,
                channel,
                user,
                thread_ts,
                "There is no gate waiting for a decision in this delivery.",
            )
            return
        approve = reading.intent == Intent.approve
        try:
            gate = await deliveries.decide(
                temporal, status.delivery_id, user, env, approve=approve, reason=reading.reason
            )
        except deliveries.DecisionRefused as exc:
            await self._ephemeral(client, channel, user, thread_ts, f":no_entry: {exc}")
            return
        log.info("%s decided %s on %s: %s", user, env, status.delivery_id, gate.summary())
        # The thread hears of it from the workflow, as for a click, so it is said once.

    async def _cancel_or_retry(
        self,
        client,
        temporal,
        delivery_id,
        user,
        channel,
        thread_ts,
        intent: Intent,
        reason: str = "",
    ) -> None:
        try:
            if intent == Intent.cancel:
                await deliveries.cancel(temporal, delivery_id, user, reason)
            else:
                await deliveries.retry(temporal, delivery_id, user)
        except deliveries.DecisionRefused as exc:
            await self._ephemeral(client, channel, user, thread_ts, f":no_entry: {exc}")

    async def _conversation(self, client, channel: str, thread_ts: str) -> tuple[bool, list[str]]:
        """Whether Shipmate is part of this thread, and what people wrote in it, oldest first.

        Slack keeps the conversation; re-reading it is what lets a restarted bot continue.
        """
        replies = await client.conversations_replies(channel=channel, ts=thread_ts, limit=200)
        bot = (await client.auth_test())["user_id"]
        messages = replies.get("messages", [])
        ours = any(m.get("user") == bot or f"<@{bot}>" in m.get("text", "") for m in messages)
        people = [
            m.get("text", "") for m in messages if not m.get("bot_id") and m.get("user") != bot
        ]
        people = [t for t in people if intents.read(t).intent == Intent.build]
        return ours, people

    # Buttons

    async def on_button(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        action = body["actions"][0]
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id")
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or message.get("ts")
        try:
            delivery_id, env = views.read_button_value(action.get("value", ""))
        except ValueError:
            log.warning("ignoring a click with a foreign value: %s", action.get("action_id"))
            return
        try:
            temporal = await self.temporal.client()
            kind = action["action_id"]
            if kind in ("approve", "reject"):
                await deliveries.decide(
                    temporal,
                    delivery_id,
                    user,
                    env,
                    approve=kind == "approve",
                    reason="" if kind == "approve" else "rejected in Slack",
                )
            elif kind == "cancel":
                await deliveries.cancel(temporal, delivery_id, user, "cancelled in Slack")
            else:
                await deliveries.retry(temporal, delivery_id, user)
        except deliveries.DecisionRefused as exc:
            await self._ephemeral(client, channel, user, thread_ts, f":no_entry: {exc}")
        except (TemporalUnavailable, RPCError):
            await self._ephemeral(
                client,
                channel,
                user,
                thread_ts,
                ENGINE_DOWN.split(" Your")[0] + " Nothing was decided; click again in a minute.",
            )
        if body.get("view", {}).get("type") == "home":
            await self.publish_home(client, user)

    # App Home

    async def publish_home(self, client: AsyncWebClient, user: str) -> None:
        try:
            temporal = await self.temporal.client()
            mine = (
                f"WorkflowType = 'DeliveryWorkflow' AND ShipmateRequester = '{answers.safe(user)}'"
            )
            waiting = (
                "WorkflowType = 'DeliveryWorkflow' AND "
                f"ShipmateState = '{DeliveryState.waiting_for_approval.value}'"
            )
            recent = await status_report.deliveries_matching(temporal, mine, limit=15)
            candidates = await status_report.deliveries_matching(temporal, waiting)
            waiting_on_me = [
                s
                for s in candidates
                if s.requester != user
                and any(g.state == "open" and user in g.approvers for g in s.gates)
            ]
        except (TemporalUnavailable, RPCError):
            recent, waiting_on_me = [], []
        await client.views_publish(
            user_id=user, view=views.home_view(recent, waiting_on_me, self.ui)
        )

    # Talking back

    async def _say(
        self, client: AsyncWebClient, channel: str, thread_ts: str, user: str, text: str
    ) -> None:
        try:
            await client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=text,
                blocks=[b.to_dict() for b in views.answer_blocks(text)],
            )
        except SlackApiError as exc:
            await self._cannot_post(client, channel, user, exc)

    async def _ephemeral(self, client, channel, user, thread_ts, text: str) -> None:
        if channel is None:  # a click on the App Home: answer in the DM
            await client.chat_postMessage(channel=user, text=text)
            return
        try:
            await client.chat_postEphemeral(
                channel=channel, user=user, text=text, thread_ts=thread_ts
            )
        except SlackApiError as exc:
            await self._cannot_post(client, channel, user, exc)

    async def _cannot_post(self, client, channel: str, user: str, exc: SlackApiError) -> None:
        """Never leave a person with silence: say in a DM what to do instead."""
        error = exc.response.get("error", "")
        if error in ("not_in_channel", "channel_not_found"):
            advice = (
                f"I'm not in <#{channel}>, so I can't answer there. Invite me with "
                "`/invite @shipmate` and ask again."
            )
        elif error == "missing_scope":
            advice = (
                "I'm missing a Slack permission for that "
                f"({exc.response.get('needed', 'a scope')}). Ask an admin to reinstall "
                "me with the scopes in deploy/slack-manifest.yml."
            )
        else:
            log.error("Slack refused a reply in %s: %s", channel, error)
            return
        log.warning("cannot post in %s (%s); telling %s directly", channel, error, user)
        try:
            await client.chat_postMessage(channel=user, text=advice)
        except SlackApiError as second:
            log.error("could not DM %s either: %s", user, second.response.get("error"))
