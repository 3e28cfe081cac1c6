"""What Shipmate is told about each environment it deploys to: whether it is production,
and how its approvals differ from the default rules."""

from __future__ import annotations

from pydantic import BaseModel, Field


class EnvironmentPolicy(BaseModel):
    """Overrides of the default approval rules for one environment."""

    approvers: list[str] | None = None
    required_approvals: int = Field(1, ge=1)
    requester_may_approve: bool | None = None
    timeout_hours: float | None = Field(None, gt=0)
    remind_before_hours: float | None = Field(None, ge=0)
    gate: bool = True


class EnvironmentSetting(BaseModel):
    """One environment Shipmate deploys to: its name, and whether it is production (its
    requester never approves their own deploy there by default)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9]{0,19}$")  # one word: no newline either
    production: bool = False
