"""Who acts, through what, and under which rules: the models the validators judge.

Identities are Slack user ids taken from Slack's verified payloads (or the command
line's configured operator). Policies are resolved from settings when a change is
requested, so a delivery carries the rules it was started under, and they fail
closed: a gate that nobody may approve does not open.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

ANYONE = "*"


class Origin(StrEnum):
    """Where a decision came from; a button is bound to the message it sits on."""

    card = "card"  # a button on the delivery's status card
    prompt = "prompt"  # a button on Shipmate's private question in the delivery's thread
    home = "home"  # the App Home
    direct = "direct"  # a button on Shipmate's direct message to an approver
    command = "command"  # an explicit command addressed to Shipmate
    cli = "cli"  # the command line, as its configured operator


class PersonAction(BaseModel):
    """Cancel or retry (and the base of a gate decision): who asked, and through what."""

    user: str
    reason: str = ""
    groups: list[str] = Field(
        default_factory=list, description="The person's user groups, as Slack says now"
    )
    origin: Origin = Origin.cli
    channel: str | None = None
    message_ts: str | None = Field(None, description="The message the button sits on")


class ApprovalDecision(PersonAction):
    """One click (or command) on a gate, as sent by the bot or the CLI."""

    environment: str
    accepts_data_loss: bool = Field(
        False, description="The approver confirmed what a roll back loses (its own button)"
    )


class ApprovalPolicy(BaseModel):
    """Who may let a change into one environment; resolved from the worker's settings
    before the delivery's first gate (activities/worker_rules.py)."""

    approvers: list[str] = Field(
        default_factory=list, description="Slack user ids: those named and the groups' members"
    )
    approver_groups: list[str] = Field(
        default_factory=list, description="User groups whose members may approve"
    )
    named_approvers: list[str] | None = Field(
        None,
        description="The people named themselves, not through a group: a group member "
        "approves through the groups Slack names at the click, so one removed since the "
        "delivery started is refused. None: a delivery started before (all of `approvers`)",
    )
    required_approvals: int = 1
    requester_may_approve: bool = True
    timeout_seconds: float = 24 * 3600
    remind_before_seconds: float = Field(
        3600, description="Remind the approvers this long before the gate expires; 0: never"
    )
    gate: bool = True
    production: bool | None = Field(
        None, description="Production in SHIPMATE_ENVIRONMENTS; None: older, go by the name"
    )
    problem: str = Field("", description="Why nobody may approve, naming the setting to fix")

    def allows(self, person: PersonAction) -> bool:
        named = self.approvers if self.named_approvers is None else self.named_approvers
        return person.user in named or bool(set(person.groups) & set(self.approver_groups))

    @property
    def has_approvers(self) -> bool:
        return bool(self.approvers or self.approver_groups)

    def missing_approvers(self, environment: str) -> str:
        """Why the gate cannot open, and which setting to fix."""
        return self.problem or (
            f"nobody may approve {environment} deploys; set SHIPMATE_APPROVERS or the "
            f"approvers of {environment} in SHIPMATE_APPROVAL_POLICIES"
        )


class AccessPolicy(BaseModel):
    """Who may ask for changes and who may stop or retry anyone's delivery."""

    developers: list[str] = Field(
        default_factory=lambda: [ANYONE], description="User ids, or * for anyone"
    )
    admins: list[str] = Field(default_factory=list, description="Shipmate admins' user ids")

    def may_request(self, user: str) -> bool:
        return ANYONE in self.developers or user in self.developers
