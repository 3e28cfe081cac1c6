"""The Slack bot's wiring: which events and buttons go where.

Messages go to bot.conversation, decision buttons to bot.decisions (or, when they ask
for a comment or a reason, to bot.decision_modals first), the Roll back
button of a live message to bot.rollback_button, the App Home to bot.home.
Every button carries its workflow id (see slack_views.card), so a click works on any
replica and after any restart; the workflow checks it is on that delivery's own card.
"""

from __future__ import annotations

import asyncio
import logging
import re

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.answer_buttons import AnswerButtons
from bot.commands import UNDOING, Verb
from bot.conversation import ENGINE_DOWN, Conversations
from bot.decision_modals import DecisionModals
from bot.decisions import Decisions
from bot.home import AppHome
from bot.plan_edits import PlanEdits
from bot.rollback_button import RollbackButton
from bot.speakers import only_our_people
from bot.temporal_link import TemporalLink
from bot.traced_app import TracedApp
from shipmate.people import Directory
from shipmate.settings import Settings
from slack_views.card import APPROVE_LOSING_DATA
from slack_views.decision_modal import APPROVE_WITH_COMMENT, CALLBACK, REJECT
from slack_views.optimize_card import APPLY_SPEEDUPS, GO_AHEAD
from slack_views.plan import ANSWER
from slack_views.plan_check import EDIT
from slack_views.prompts import DISMISS
from slack_views.review_card import APPLY_FIXES
from slack_views.rollback import ROLL_BACK

log = logging.getLogger(__name__)

__all__ = ["ENGINE_DOWN", "TemporalLink", "build_app"]


def slack_client(settings: Settings) -> AsyncWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url or AsyncWebClient.BASE_URL,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=5)],
    )


def single_flight_authorization(client: AsyncWebClient):
    """Who the bot is, asked of Slack once: a burst of first events must not each call
    auth.test (and wait out its rate limit before being seen)."""
    lock = asyncio.Lock()
    known: list[AuthorizeResult] = []

    async def authorize(**_) -> AuthorizeResult:
        async with lock:
            if not known:
                response = await client.auth_test()
                known.append(
                    AuthorizeResult.from_auth_test_response(
                        auth_test_response=response, bot_token=client.token, user_token=None
                    )
                )
        return known[0]

    return authorize


def build_app(settings: Settings, temporal: TemporalLink, **app_options) -> TracedApp:
    client = slack_client(settings)
    app = TracedApp(client=client, authorize=single_flight_authorization(client), **app_options)
    directory = Directory(settings, app.client)
    home = AppHome(settings, temporal)
    decisions = Decisions(temporal, settings.task_queue, directory, home.publish)
    conversations = Conversations(settings, temporal, directory, decisions)
    rollback = RollbackButton(settings, temporal, directory)
    answer_buttons = AnswerButtons(conversations)
    plan_edits = PlanEdits(answer_buttons)
    modals = DecisionModals(decisions)

    @app.middleware
    async def only_this_app(body, next):
        """A request for another app (a shared endpoint, a misrouted event) is acked and
        dropped, so it starts nothing here."""
        other = body.get("api_app_id")
        if settings.slack_app_id and other and other != settings.slack_app_id:
            log.warning("ignored %s meant for app %s", body.get("type", "a request"), other)
            return BoltResponse(status=200, body="")
        return await next()

    # who is speaking: people of another workspace (Slack Connect) start nothing here
    app.middleware(only_our_people(settings, app.client))

    @app.event("app_mention")
    async def on_mention(event, client):
        if event.get("bot_id") or event.get("subtype") == "bot_message":
            # another app (a CI bot echoing a PR title) never asks Shipmate for work
            log.info("ignored a mention from the app %s", event.get("bot_id"))
            return
        await conversations.on_message(client, event, addressed=True)

    @app.event("message")
    async def on_message(event, client, context):
        """DMs, and replies in threads; a mention comes as app_mention and is handled there."""
        if event.get("subtype") not in (None, "file_share") or event.get("bot_id"):
            return  # edits, joins, and bots (this one included); a file may be for review
        mentioned = f"<@{context.bot_user_id}>" in event.get("text", "")
        if event.get("channel_type") == "im":
            await conversations.on_message(client, event, addressed=True)
        elif event.get("thread_ts") and not mentioned:
            await conversations.on_message(client, event, addressed=False)

    @app.command("/shipmate")
    async def on_command(ack, command, client, respond):
        await ack()  # at once: the answer comes in a thread under the request
        await conversations.on_command(client, command, respond)

    clicks = (v for v in Verb if v not in (*UNDOING, Verb.reject))
    for action in (*clicks, DISMISS, APPROVE_LOSING_DATA):
        app.action(action)(decisions.on_button)
    for action in (REJECT, APPROVE_WITH_COMMENT):  # the modal asks for the words first
        app.action(action)(modals.on_click)
    app.view(CALLBACK)(modals.on_submit)
    app.action(ROLL_BACK)(rollback.on_click)
    app.action(APPLY_FIXES)(conversations.reviews.on_click)
    app.action(GO_AHEAD)(conversations.optimizations.on_go_ahead)
    app.action(APPLY_SPEEDUPS)(conversations.optimizations.on_apply)
    app.action(re.compile(rf"^{ANSWER}_\d+$"))(answer_buttons.on_click)
    app.action(EDIT)(plan_edits.on_click)
    app.view(EDIT)(plan_edits.on_submit)

    @app.event("app_home_opened")
    async def on_home(event, client):
        await home.publish(client, event["user"])

    @app.error
    async def on_error(error, body):
        log.error("unhandled error for %s: %s", body.get("type") if body else "?", error)

    return app
