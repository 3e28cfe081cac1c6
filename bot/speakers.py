"""Who is speaking: people of this workspace (and of the partner workspaces
SHIPMATE_SLACK_ALLOWED_TEAMS names) ask Shipmate for work, and only developers ask for
builds and changes.

In a Slack Connect channel, people of other organisations can mention Shipmate, answer
its questions and click its buttons. Their events carry their own team: `user_team` (or
`team`) on a message, `user.team_id` on a click or a modal, `team_id` on a slash
command. One middleware compares it with the installation's team (SHIPMATE_SLACK_TEAM_ID,
else the one auth.test named) before any listener runs: a stranger's request is acked,
starts nothing and is logged in one line, and where the bot can answer them alone (a
mention, a DM, a command, a button) they are told so privately.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.turn import clicked_where
from shipmate.people import Directory, is_group
from shipmate.policies import access_policy
from shipmate.settings import Settings

log = logging.getLogger(__name__)

OTHER_TEAM = (
    ":no_entry: I only take requests from the people of this workspace and of its "
    "allowed partners, so nothing has started."
)


@dataclass(frozen=True)
class Speaker:
    kind: str  # app_mention, message, slash_command, block_actions, view_submission…
    user: str
    team: str | None  # None: Slack named no team, so there is nothing to judge
    channel: str | None = None  # where to answer them privately; None: nowhere
    thread_ts: str | None = None


def speaker(body: dict) -> Speaker | None:
    """Who made this request, of which team, and where they can be told privately."""
    event = body.get("event")
    if isinstance(event, dict):
        user = event.get("user")
        if not isinstance(user, str):
            return None
        kind = event.get("type", "event")
        by_a_person = not event.get("bot_id") and not event.get("subtype")
        said_to_us = kind == "app_mention" or event.get("channel_type") == "im"
        tellable = by_a_person and said_to_us  # a thread reply among people: no answer
        return Speaker(
            kind,
            user,
            event.get("user_team") or event.get("team"),
            event.get("channel") if tellable else None,
            event.get("thread_ts") or event.get("ts"),
        )
    if body.get("command"):
        return Speaker(
            "slash_command", body.get("user_id", ""), body.get("team_id"), body.get("channel_id")
        )
    user = body.get("user")
    if isinstance(user, dict) and user.get("id"):
        team = user.get("team_id") or (body.get("team") or {}).get("id")
        channel, _, message = clicked_where(body)
        return Speaker(
            body.get("type", "interaction"), user["id"], team, channel, message.get("thread_ts")
        )
    return None


def only_our_people(settings: Settings, client: AsyncWebClient):
    """The middleware: a request from a person of another team goes no further."""
    telling: set[asyncio.Task] = set()

    async def middleware(body, context, next):
        who = speaker(body) if isinstance(body, dict) else None
        if who is None or who.team is None or who.team in settings.slack_allowed_teams:
            return await next()
        authorized = context.authorize_result
        home = settings.slack_team_id or (authorized.team_id if authorized else None)
        if who.team == home:
            return await next()
        log.warning(
            "refused %s from %s of team %s: neither this workspace (%s) nor in "
            "SHIPMATE_SLACK_ALLOWED_TEAMS",
            who.kind,
            who.user,
            who.team,
            home or "unknown: set SHIPMATE_SLACK_TEAM_ID",
        )
        if who.channel:  # told after the ack, which must not wait for Slack's answer
            task = asyncio.get_running_loop().create_task(_tell(client, who))
            telling.add(task)
            task.add_done_callback(telling.discard)
        return BoltResponse(status=200, body="")

    return middleware


async def _tell(client: AsyncWebClient, who: Speaker) -> None:
    try:
        await client.chat_postEphemeral(
            channel=who.channel, user=who.user, text=OTHER_TEAM, thread_ts=who.thread_ts
        )
    except SlackApiError as exc:
        log.info("could not tell %s privately: %s", who.user, exc.response.get("error"))


async def developer_refusal(settings: Settings, directory: Directory, user: str) -> str | None:
    """None when `user` may ask for builds and changes; else what to tell them alone,
    naming who can make them a developer. SHIPMATE_DEVELOPERS empty (the default) is
    nobody. The workflow's validator checks it again: this only spares the planning."""
    if (await access_policy(settings, directory)).may_request(user):
        return None
    admins = [f"<!subteam^{a}>" if is_group(a) else f"<@{a}>" for a in settings.admins]
    who = " or ".join(admins) if admins else "whoever runs Shipmate"
    return (
        f":no_entry: <@{user}> may not ask for builds or changes: only the people in "
        f"SHIPMATE_DEVELOPERS may. Ask {who} to add you."
    )
