"""Secrets found in reviewed code stay out of Slack, logs and workflow history.

A finding about a hard-coded secret is about a value nobody should see again: a tool's
message may quote it ("Possible hardcoded password: 's3cr3t'"), and a fix that removes
it carries it on the diff's removed line. So every finding's words go through the log
scrubber with the flagged lines' string literals as known values, and a fix whose
removed lines hold a flagged line loses its patch (the finding stays, and says what to
do: read the value from the environment, and rotate it); so does any fix that shows the
flagged line as context, and the model's findings are guarded the same way. The SARIF
file uploaded to the thread is scrubbed of the same values.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from activities.log_scrub import scrub
from activities.review.sarif import family
from workflows.review_models import MAX_PATCH_CHARS, Finding

MAX_MESSAGE_CHARS = 500  # a finding's words, in history and on the card

LITERAL = re.compile(r"""(['"])((?:(?!\1).){4,})\1""")


def secrets_found(findings: list[Finding], root: Path) -> tuple[set[str], set[str]]:
    """(the flagged lines' secret values, the flagged lines themselves)."""
    known: set[str] = set()
    flagged: set[str] = set()
    for finding in findings:
        if family(finding) == "secret" and (text := _line(root / finding.file, finding.line)):
            flagged.add(text.strip())
            known.update(_literals(text))
    return known, flagged


def guarded(findings: list[Finding], found: tuple[set[str], set[str]]) -> list[Finding]:
    """`findings` made safe to show, given what `secrets_found` found (over them, and
    over the static findings when the model's are guarded)."""
    known, flagged_text = found
    kept = []
    for finding in findings:
        patch = finding.patch
        if patch and _shows(patch, flagged_text, known):
            patch = ""
        kept.append(
            finding.model_copy(
                update={
                    "message": scrub(finding.message, known),
                    "why": scrub(finding.why, known),
                    "patch": patch,
                }
            )
        )
    return kept


def bounded(findings: list[Finding]) -> list[Finding]:
    """Findings small enough for a workflow's history: long words cut, a patch longer
    than MAX_PATCH_CHARS left to the SARIF file."""
    return [
        finding.model_copy(
            update={
                "message": finding.message[:MAX_MESSAGE_CHARS],
                "why": finding.why[:MAX_MESSAGE_CHARS],
                "patch": finding.patch if len(finding.patch) <= MAX_PATCH_CHARS else "",
            }
        )
        for finding in findings
    ]


def _line(path: Path, number: int) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return lines[number - 1] if 0 < number <= len(lines) else ""


def _literals(text: str) -> set[str]:
    values = {match.group(2) for match in LITERAL.finditer(text)}
    try:  # a real parse catches what the pattern misses (escapes, prefixes)
        for node in ast.walk(ast.parse(text.strip())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                values.add(node.value)
    except SyntaxError:
        pass
    return {value for value in values if len(value) >= 4}


def _shows(patch: str, flagged: set[str], known: set[str]) -> bool:
    """A flagged line among the patch's removed or context lines, or a secret anywhere."""
    shown = {line[1:].strip() for line in patch.splitlines() if line[:1] in ("-", " ")}
    return bool(shown & flagged) or any(value in patch for value in known)
