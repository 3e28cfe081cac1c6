"""The rules a delivery carries, resolved from settings when a change is requested.

Approvers per environment (user groups expanded; an unknown group or an empty list
leaves the gate closed with the setting to fix), who may ask for changes and who
administers Shipmate, and how long stages may take.
"""

from __future__ import annotations

from shipmate.environments import is_production
from shipmate.people import Directory, is_group
from shipmate.settings import Settings
from workflows.access import AccessPolicy, ApprovalPolicy
from workflows.models import StageTimeouts


async def approval_policies(
    settings: Settings, environments: list[str], directory: Directory
) -> dict[str, ApprovalPolicy]:
    """The rules for each environment: defaults, then SHIPMATE_APPROVAL_POLICIES overrides."""
    policies = {}
    for env in environments:
        override = settings.approval_policies.get(env)
        named = bool(override and override.approvers)
        entries = override.approvers if named else settings.approvers
        setting = (
            f"the approvers of {env} in SHIPMATE_APPROVAL_POLICIES"
            if named
            else ("SHIPMATE_APPROVERS")
        )
        found = await directory.resolve(entries)
        problem = ""
        if found.unknown:
            problem = (
                f"nobody may approve {env} deploys: {setting} names "
                f"{', '.join(found.unknown)}, a user group neither SHIPMATE_APPROVER_GROUPS "
                "nor Slack knows. Fix the setting, then ask again."
            )
        elif not found.users and not found.groups:
            problem = f"nobody may approve {env} deploys: {setting} names nobody."
        own = override.requester_may_approve if override else None
        hours = override.timeout_hours if override and override.timeout_hours else None
        remind = override.remind_before_hours if override else None
        named = [entry for entry in entries if not is_group(entry)]
        policies[env] = ApprovalPolicy(
            approvers=[] if problem else found.users,
            named_approvers=[] if problem else named,
            approver_groups=[] if problem else found.groups,
            problem=problem,
            required_approvals=override.required_approvals if override else 1,
            requester_may_approve=own if own is not None else not is_production(settings, env),
            timeout_seconds=(hours or settings.approval_timeout_hours) * 3600,
            remind_before_seconds=(settings.approval_reminder_hours if remind is None else remind)
            * 3600,
            gate=override.gate if override else True,
            production=is_production(settings, env),
        )
    return policies


async def access_policy(settings: Settings, directory: Directory) -> AccessPolicy:
    developers = await directory.resolve(settings.developers)
    admins = await directory.resolve(settings.admins)
    return AccessPolicy(developers=developers.users, admins=admins.users)


def stage_timeouts(settings: Settings) -> StageTimeouts:
    return StageTimeouts(
        heartbeat_seconds=settings.heartbeat_seconds,
        retry_window_seconds=settings.retry_window_hours * 3600,
    )
