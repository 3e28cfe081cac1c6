"""From the analyzer's SARIF to findings: one severity scale over every tool, one finding
per problem, the files worth a closer read, and the report as Markdown.

The severity of a tool's rule, written down once (the analyzer's own checks carry theirs
in `properties.severity`):

- ruff: high for injection, code execution, unsafe deserialisation, shell and TLS-off
  rules (HIGH_RULES); medium for the other S rules, ASYNC, T10, F821 and a file that
  does not parse or decode (E902, invalid-syntax); low for S101/S104/S105-S108/S311,
  bugbear, BLE001, the other F rules, PLE, DTZ; note for PERF, SIM, PIE, E4/E7 and
  unused imports and names.
- bandit: HIGH and B608 (SQL) high, MEDIUM medium, LOW and B105-B108 low, B101 note.
- mypy: every type error low; a file that does not parse medium.
- radon: rank C and D a note, E and F low.
- the analyzer's own checks (tool "shipmate"): the severity they carry.

Bandit's LOW confidence takes its finding one step down. A finding in a test file is at
most low: a weakness in a test does not ship. Two tools reporting one problem at one
line (ruff S608, bandit B608 and our sql-from-string) count once: the finding that says
why and how to fix it is kept, at the highest severity any of them gave.
"""

from __future__ import annotations

import re
from collections import Counter

from workflows.review_models import SEVERITY_ORDER, Finding, Severity

HIGH_RULES = {  # ruff S / bandit B numbers: injection, execution, deserialisation, TLS off
    "102", "301", "302", "307", "501", "502", "503", "504", "506", "508", "509",
    "602", "604", "605", "608", "609", "610", "611", "701", "702", "704",
}  # fmt: skip
LOW_SECURITY = {"101", "104", "105", "106", "107", "108", "311", "404", "603", "607"}
NOTE_PREFIXES = ("PERF", "SIM", "PIE", "E4", "E7", "RUF", "UP", "C4", "W")
FAMILIES = {  # the same problem under other tools' names
    "sql-from-string": "sec-608",
    "hardcoded-secret": "secret",
    "http-without-timeout": "sec-113",
    "swallowed-exception": "swallow",
    "BLE001": "swallow",
    "E722": "swallow",
}
SECRET_NUMBERS = {"105", "106", "107"}
SWALLOW_NUMBERS = {"110", "112"}
LEVEL_SEVERITY = {"error": Severity.medium, "warning": Severity.low, "note": Severity.note}
STEP_DOWN = {
    Severity.high: Severity.medium,
    Severity.medium: Severity.low,
    Severity.low: Severity.note,
    Severity.note: Severity.note,
}
TEST_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$")


def findings_from_sarif(doc: dict) -> tuple[list[Finding], list[str], list[str]]:
    """(findings, tools that ran, "tool: why" for those that failed)."""
    found: list[Finding] = []
    ran: list[str] = []
    failed: list[str] = []
    for run in doc.get("runs") or []:
        tool = str(((run.get("tool") or {}).get("driver") or {}).get("name") or "unknown")
        invocation = (run.get("invocations") or [{}])[0]
        if invocation.get("executionSuccessful", True) is False:
            notes = invocation.get("toolExecutionNotifications") or [{}]
            failed.append(f"{tool}: {(notes[0].get('message') or {}).get('text', 'failed')}")
            continue
        ran.append(tool)
        for result in run.get("results") or []:
            finding = _finding(tool, result)
            if finding is not None:
                found.append(finding)
    return _sorted(_deduplicated(found)), ran, failed


def _finding(tool: str, result: dict) -> Finding | None:
    try:
        location = result["locations"][0]["physicalLocation"]
        path = str(location["artifactLocation"]["uri"]).removeprefix("./")
        line = max(1, int((location.get("region") or {}).get("startLine") or 1))
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    rule = str(result.get("ruleId") or tool)
    properties = result.get("properties") or {}
    severity = severity_of(tool, rule, result.get("level", "warning"), properties)
    if TEST_PATH.search(path) and SEVERITY_ORDER[severity] < SEVERITY_ORDER[Severity.low]:
        severity = Severity.low
    return Finding(
        rule=rule,
        tool=tool,
        severity=severity,
        file=path,
        line=line,
        message=str((result.get("message") or {}).get("text") or rule),
        why=str(properties.get("why") or ""),
        patch=str(properties.get("patch") or ""),
    )


def severity_of(tool: str, rule: str, level: str, properties: dict) -> Severity:
    """The table in this module's docstring."""
    if properties.get("severity") in Severity.__members__:
        return Severity(properties["severity"])
    if tool == "ruff":
        return _ruff(rule)
    if tool == "bandit":
        number = rule.removeprefix("B")
        if number == "101":
            return Severity.note
        if number in HIGH_RULES:
            severity = Severity.high
        elif number in LOW_SECURITY:
            severity = Severity.low
        else:
            bandit = str(properties.get("bandit_severity", "")).upper()
            severity = {"HIGH": Severity.high, "MEDIUM": Severity.medium}.get(bandit, Severity.low)
        low_confidence = str(properties.get("confidence", "")).upper() == "LOW"
        return STEP_DOWN[severity] if low_confidence else severity
    if tool == "mypy":
        return Severity.medium if rule == "syntax" else Severity.low
    if tool == "radon":
        return Severity.low if rule in ("CC-E", "CC-F") else Severity.note
    return LEVEL_SEVERITY.get(level, Severity.low)


def _ruff(rule: str) -> Severity:
    if rule.startswith("S") and rule[1:].isdigit():
        number = rule[1:]
        if number in HIGH_RULES:
            return Severity.high
        return Severity.low if number in LOW_SECURITY else Severity.medium
    if rule.startswith(("ASYNC", "T10", "E9")) or rule in ("F821", "invalid-syntax"):
        return Severity.medium
    if rule in ("F401", "F841", "F811") or rule.startswith(NOTE_PREFIXES):
        return Severity.note
    return Severity.low


def family(finding: Finding) -> str:
    """What a rule is about, whichever tool named it: ruff S608 and bandit B608 are one."""
    rule = finding.rule
    number = ""
    if finding.tool == "ruff" and re.fullmatch(r"S\d{3}", rule):
        number = rule[1:]
    elif finding.tool == "bandit" and re.fullmatch(r"B\d{3}", rule):
        number = rule[1:]
    if number in SECRET_NUMBERS:
        return "secret"
    if number in SWALLOW_NUMBERS:
        return "swallow"
    if number:
        return f"sec-{number}"
    return FAMILIES.get(rule, f"{finding.tool}:{rule}")


def _deduplicated(findings: list[Finding]) -> list[Finding]:
    groups: dict[tuple[str, int, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.file, finding.line, family(finding)), []).append(finding)
    kept = []
    for group in groups.values():
        best = min(group, key=_preference)
        worst = min(group, key=lambda f: SEVERITY_ORDER[f.severity]).severity
        kept.append(best.model_copy(update={"severity": worst}))
    return kept


def _preference(finding: Finding) -> tuple[int, int, int]:
    """The one that says why and how to fix it first, then the more severe."""
    return (not finding.patch, not finding.why, SEVERITY_ORDER[finding.severity])


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.file, f.line, f.rule))


WEIGHTS = {Severity.high: 8, Severity.medium: 4, Severity.low: 2, Severity.note: 1}


def hot_spots(findings: list[Finding], limit: int = 8) -> list[str]:
    """The files to read closely: most (and most severe) findings first."""
    score: Counter[str] = Counter()
    for finding in findings:
        score[finding.file] += WEIGHTS[finding.severity]
    return [path for path, _ in sorted(score.items(), key=lambda item: (-item[1], item[0]))][:limit]


def counts(findings: list[Finding]) -> dict[str, int]:
    tally = Counter(finding.severity.value for finding in findings)
    return {severity.value: tally.get(severity.value, 0) for severity in Severity}


def to_markdown(findings: list[Finding], label: str) -> str:
    """The report file: counts by severity, then every finding with its why and its fix."""
    tally = counts(findings)
    summary = " · ".join(f"{count} {severity}" for severity, count in tally.items())
    lines = [f"# Review of {label}", "", f"**{summary}** ({len(findings)} findings)", ""]
    if not findings:
        lines += ["No findings.", ""]
    for severity in Severity:
        chosen = [finding for finding in findings if finding.severity == severity]
        if not chosen:
            continue
        lines += [f"## {severity.value.capitalize()} ({len(chosen)})", ""]
        for finding in chosen:
            lines += [
                f"### `{finding.where}` — {finding.rule} ({finding.tool})",
                "",
                _one_line(finding.message),
                "",
            ]
            if finding.why:
                lines += [f"*Why it matters:* {_one_line(finding.why)}", ""]
            if finding.patch:
                fence = "`" * max(3, _longest_backticks(finding.patch) + 1)
                lines += [f"{fence}diff", finding.patch.rstrip("\n"), fence, ""]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)
