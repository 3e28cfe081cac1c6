"""People and user groups named in settings, with Slack user groups resolved.

A group's members come from SHIPMATE_APPROVER_GROUPS when it is listed there, else from
Slack (`usergroups.users.list`), cached for a minute and refreshed when someone clicks.
A group neither knows is reported, never guessed: the gate it guards does not open.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from shipmate.settings import Settings
from workflows.access import ANYONE

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0


@dataclass
class Resolved:
    users: list[str]  # everyone named, groups expanded
    groups: list[str]  # the groups among the entries, known to exist
    unknown: list[str]  # entries that are neither a user id nor a group anyone knows


def is_group(entry: str) -> bool:
    return entry.startswith("S")


class Directory:
    def __init__(self, settings: Settings, slack: AsyncWebClient | None = None):
        self.settings = settings
        self.slack = slack
        self._cache: dict[str, tuple[float, list[str] | None]] = {}

    @classmethod
    def for_settings(cls, settings: Settings) -> Directory:
        """With a Slack client when a bot token is set (the CLI), else configuration only."""
        if settings.slack_bot_token is None:
            return cls(settings)
        return cls(
            settings,
            AsyncWebClient(
                token=settings.slack_bot_token.get_secret_value(),
                base_url=settings.slack_api_url or AsyncWebClient.BASE_URL,
            ),
        )

    async def members(self, group: str, refresh: bool = False) -> list[str] | None:
        """The group's members, or None when neither the settings nor Slack know it."""
        configured = self.settings.approver_groups.get(group)
        if configured is not None:
            return configured
        cached = self._cache.get(group)
        if cached and not refresh and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        members = await self._ask_slack(group)
        self._cache[group] = (time.monotonic(), members)
        return members

    async def _ask_slack(self, group: str) -> list[str] | None:
        if self.slack is None:
            return None
        try:
            answer = await self.slack.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            log.warning("Slack does not resolve group %s: %s", group, exc.response.get("error"))
            return None
        return list(answer.get("users") or [])

    async def resolve(self, entries: list[str], refresh: bool = False) -> Resolved:
        users: list[str] = []
        groups: list[str] = []
        unknown: list[str] = []
        for entry in entries:
            if entry == ANYONE or not is_group(entry):
                users.append(entry)
                continue
            members = await self.members(entry, refresh)
            if members is None:
                unknown.append(entry)
            else:
                groups.append(entry)
                users += members
        return Resolved(list(dict.fromkeys(users)), groups, unknown)

    async def groups_of(self, user: str) -> list[str]:
        """The groups named anywhere in the settings that `user` belongs to, asked afresh."""
        named = {
            entry
            for entries in (
                self.settings.approvers,
                self.settings.developers,
                self.settings.admins,
                *(p.approvers or [] for p in self.settings.approval_policies.values()),
            )
            for entry in entries
            if is_group(entry)
        }
        return [g for g in sorted(named) if user in (await self.members(g, refresh=True) or [])]
