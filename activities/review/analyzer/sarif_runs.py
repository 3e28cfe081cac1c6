"""SARIF 2.1.0 pieces: a result, a run (one per tool), a failed run, the document.

Every result carries `properties` {"severity": high|medium|low|note, "why", "patch"} when
the analyzer knows them; the host maps other tools' rules to a severity itself.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"high": "error", "medium": "warning", "low": "note", "note": "note"}


@dataclass
class Issue:
    """One thing a structural check found, at one place."""

    rule: str
    severity: str  # high | medium | low | note
    path: str
    line: int
    message: str
    why: str = ""
    patch: str = ""
    column: int = 1

    def result(self) -> dict:
        return result(
            self.rule,
            self.message,
            self.path,
            self.line,
            level=LEVELS[self.severity],
            column=self.column,
            properties={"severity": self.severity, "why": self.why, "patch": self.patch},
        )


def result(
    rule: str,
    message: str,
    path: str,
    line: int,
    *,
    level: str = "warning",
    column: int = 1,
    properties: dict | None = None,
) -> dict:
    found = {
        "ruleId": rule,
        "level": level if level in ("error", "warning", "note", "none") else "warning",
        "message": {"text": message or rule},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": path, "uriBaseId": "SRCROOT"},
                    "region": {"startLine": max(1, int(line or 1)), "startColumn": max(1, column)},
                }
            }
        ],
    }
    if properties:
        found["properties"] = properties
    return found


def run(
    tool: str,
    results: list[dict],
    *,
    version: str = "",
    uri: str = "",
    rules: list[dict] | None = None,
    notes: list[str] = (),
) -> dict:
    """A run that finished; `notes` are what it could not read (skipped files)."""
    driver: dict = {"name": tool}
    if version:
        driver["version"] = version
    if uri:
        driver["informationUri"] = uri
    if rules:
        driver["rules"] = rules
    invocation: dict = {"executionSuccessful": True}
    if notes:
        invocation["toolExecutionNotifications"] = [
            {"level": "note", "message": {"text": note}} for note in notes[:50]
        ]
    return {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "originalUriBaseIds": {"SRCROOT": {"uri": "file:///src/"}},
        "results": results,
    }


def failed_run(tool: str, why: str, *, version: str = "") -> dict:
    """A tool that could not run, ran out of time or said something we cannot read."""
    made = run(tool, [], version=version)
    made["invocations"] = [
        {
            "executionSuccessful": False,
            "toolExecutionNotifications": [{"level": "error", "message": {"text": why}}],
        }
    ]
    return made


def document(runs: list[dict]) -> dict:
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": runs}
