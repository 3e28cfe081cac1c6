"""The rules a delivery's gates go by, looked up by the worker from its own settings.

A change request still carries the rules its caller resolved (the bot's settings, or
the command line's), for the service's validator to refuse the obvious at once. They
are not what a delivery's gates go by: `SHIPMATE_APPROVAL_POLICIES='{"prod":{"gate":false}}'
shipmate deliver …` would otherwise open prod with no gate. The delivery asks the worker
here before its first gate; the deploy guard (activities/deploy_guard.py) checks again at
each deploy.
"""

from __future__ import annotations

from shipmate.people import Directory
from shipmate.policies import access_policy, approval_policies
from shipmate.settings import Settings
from workflows import activity_contracts as contracts
from workflows.activity_contracts import implements
from workflows.stage_models import Rules, RulesInput


class WorkerRules:
    def __init__(self, settings: Settings):
        self.settings = settings

    @implements(contracts.environment_rules)
    async def environment_rules(self, request: RulesInput) -> Rules:
        directory = Directory.for_settings(self.settings)  # a new one: no stale members
        return Rules(
            policies=await approval_policies(self.settings, request.environments, directory),
            access=await access_policy(self.settings, directory),
        )
