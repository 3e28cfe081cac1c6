"""The worker's own rules, checked at the door: a deploy goes ahead only when the gate it
passed holds the approvals that this worker's settings require now.

A delivery carries the approval rules its caller resolved from the caller's settings
(the bot's, or the command line's). A caller with looser settings
(`SHIPMATE_APPROVAL_POLICIES='{"prod":{"gate":false}}' shipmate deliver …`) or an
approver removed from a group since the click would otherwise pass. The rules and the
groups' members are looked up afresh here, in the worker, for every deploy.
"""

from __future__ import annotations

import asyncio

from shipmate.environments import unknown_environments
from shipmate.people import Directory
from shipmate.policies import approval_policies
from shipmate.settings import Settings
from workflows.access import ANYONE, ApprovalPolicy
from workflows.stage_models import DeployInput


class NotApproved(Exception):
    """The deploy lacks approvals this worker's rules require; the message says which."""


def check_approved(settings: Settings, request: DeployInput) -> None:
    """Raise NotApproved unless the worker's rules for the environment are met."""
    env = request.environment
    if why := unknown_environments(settings, [env]):
        raise NotApproved(f"refused by this worker's rules: {why}")
    policy = asyncio.run(_worker_policy(settings, env))
    if not policy.gate:
        return
    if policy.problem:
        raise NotApproved(f"refused by this worker's rules: {policy.problem}")
    counted = [
        user
        for user in dict.fromkeys(request.approved_by)
        if (ANYONE in policy.approvers or user in policy.approvers)
        and (policy.requester_may_approve or user != request.requester)
    ]
    if len(counted) >= policy.required_approvals:
        return
    had = ", ".join(f"<@{u}>" for u in dict.fromkeys(request.approved_by)) or "none"
    raise NotApproved(
        f"refused by this worker's rules: {env} deploys need {policy.required_approvals} "
        f"approval(s) by {_who(policy)}"
        f"{'' if policy.requester_may_approve else ', not the requester'}; "
        f"this delivery had {had}. Ask again from a Shipmate that uses the same settings."
    )


async def _worker_policy(settings: Settings, env: str) -> ApprovalPolicy:
    directory = Directory.for_settings(settings)  # a new one: no membership from a cache
    return (await approval_policies(settings, [env], directory))[env]


def _who(policy: ApprovalPolicy) -> str:
    """The approvers in a few words: their groups, and the first few people."""
    if ANYONE in policy.approvers:
        return "anyone"
    people = [f"<@{user}>" for user in policy.approvers[:5]]
    more = len(policy.approvers) - len(people)
    named = people + ([f"{more} more"] if more > 0 else [])
    return ", ".join(named + [f"members of {g}" for g in policy.approver_groups]) or "nobody"
