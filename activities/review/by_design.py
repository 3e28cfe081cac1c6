"""What a Shipmate service does because its spec asked for it is said as such.

A service built without sign-in ("build a todo api") has routes anyone may call: the
reviewer is right that they change data without a sign-in check, but it is the spec's
choice, not a slip in the code. Such findings stay in the report, one step lower, and
say how to change the choice: a change request that adds sign-in.
"""

from __future__ import annotations

from workflows.review_models import Finding, Severity

OPEN_RULES = {"write-without-auth", "delete-without-role"}


def open_as_asked(findings: list[Finding], service: str) -> list[Finding]:
    said = (
        f" (its spec asks for no sign-in: say `@shipmate add JWT auth to {service}` to change that)"
    )
    return [
        finding.model_copy(update={"severity": Severity.medium, "message": finding.message + said})
        if finding.rule in OPEN_RULES and finding.severity == Severity.high
        else finding
        for finding in findings
    ]
