"""The review's card: one message per review, edited as its stages move.

What a reviewer reads first: how many findings by severity, then the top ones, each
with file:line, the rule, why it matters and the fix as a diff. The whole report is in
the files uploaded beside it. Everything a finding says came from a tool, a model or
the reviewed code, so all of it is escaped; the only button is Apply fixes, and only
on a Shipmate service's review that has fixes.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from slack_views.card import STAGE_EMOJI
from slack_views.text import escape
from workflows.review_models import (
    CARD_TOP,
    Finding,
    ReviewState,
    ReviewStatus,
    Severity,
    SourceKind,
)

APPLY_FIXES = "review_apply_fixes"
TOP = CARD_TOP
MAX_DIFF = 700
SEVERITY_EMOJI = {
    Severity.high: ":red_circle:",
    Severity.medium: ":large_orange_circle:",
    Severity.low: ":large_yellow_circle:",
    Severity.note: ":white_circle:",
}
STATE_LINE = {
    ReviewState.running: ":mag: reviewing",
    ReviewState.succeeded: ":memo: reviewed",
    ReviewState.failed: ":x: review failed",
    ReviewState.cancelled: ":no_entry_sign: cancelled",
}


def review_card(status: ReviewStatus) -> list[Block]:
    label = escape(status.source.label())
    blocks: list[Block] = [
        HeaderBlock(text=f"Review of {status.source.label()}"[:150]),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{STATE_LINE[status.state]}* · asked by <@{status.requester}>\n"
                + stage_lines(status)
            )
        ),
    ]
    if status.error:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f":x: {escape(status.error)}")))
    if status.state == ReviewState.succeeded:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=counts_line(status))))
        if status.architecture:
            said = f":building_construction: {escape(status.architecture)[:2800]}"
            blocks.append(SectionBlock(text=MarkdownTextObject(text=said)))
        for finding in status.findings[:TOP]:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=finding_text(finding))))
        notes = [*status.notes]
        more = sum(status.counts.values()) - TOP
        if more > 0:
            notes.append(f"{more} more in review.md, in this thread")
        if notes:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_notes(notes))]))
        blocks += apply_blocks(status, label)
    return blocks


def card_text(status: ReviewStatus) -> str:
    """The notification's words: what Slack shows where blocks are not drawn."""
    line = f"Review of {escape(status.source.label())}: {STATE_LINE[status.state]}"
    return line + (f" ({counts_line(status)})" if status.counts else "")


def stage_lines(status: ReviewStatus) -> str:
    lines = []
    for stage in status.stages:
        detail = f" — {escape(stage.detail[:200])}" if stage.detail else ""
        lines.append(f"{STAGE_EMOJI[stage.state]} {stage.name}{detail}")
    return "\n".join(lines)


def counts_line(status: ReviewStatus) -> str:
    if not status.findings:
        return ":white_check_mark: no findings"
    parts = [
        f"{SEVERITY_EMOJI[severity]} {status.counts[severity.value]} {severity.value}"
        for severity in Severity
        if status.counts.get(severity.value)
    ]
    return " · ".join(parts)


def finding_text(finding: Finding) -> str:
    text = (
        f"{SEVERITY_EMOJI[finding.severity]} `{escape(finding.where)}` "
        f"*{escape(finding.rule)}* ({escape(finding.tool)}): {escape(finding.message[:300])}"
    )
    if finding.why:
        text += f"\n_Why it matters:_ {escape(finding.why[:300])}"
    if finding.patch:
        diff = finding.patch if len(finding.patch) <= MAX_DIFF else finding.patch[:MAX_DIFF] + "…"
        fenced = escape(diff.replace("```", "ˋˋˋ"))  # a fence inside would end the block
        text += f"\n```{fenced}```"
    return text[:2900]


def apply_blocks(status: ReviewStatus, label: str) -> list[Block]:
    if not status.fixes:
        return []
    if status.source.kind != SourceKind.service:
        note = f"{len(status.fixes)} fixes apply together: `git apply review-fixes.patch`"
        return [ContextBlock(elements=[MarkdownTextObject(text=note)])]
    if status.apply_delivery:
        note = (
            f":hammer_and_wrench: <@{status.applied_by}> asked for the fixes: "
            f"a change of {label} follows below (`{status.apply_delivery}`)"
        )
        return [ContextBlock(elements=[MarkdownTextObject(text=note)])]
    if status.apply_closed:
        note = "The time to apply these fixes from here is over: ask for a new review."
        return [ContextBlock(elements=[MarkdownTextObject(text=note)])]
    if status.applied_by:
        note = f":hourglass_flowing_sand: <@{status.applied_by}> asked for the fixes"
        return [ContextBlock(elements=[MarkdownTextObject(text=note)])]
    confirm = ConfirmObject(
        title="Apply the fixes?",
        text=f"A change of {label} with {len(status.fixes)} fixes goes through its tests and "
        "approval gates like any change.",
        confirm="Apply",
        deny="Not now",
    )
    button = ButtonElement(
        text=f"Apply {len(status.fixes)} fixes",
        action_id=APPLY_FIXES,
        value=status.review_id,
        style="primary",
        confirm=confirm,
    )
    return [
        SectionBlock(text=MarkdownTextObject(text=fixes_line(status))),
        ActionsBlock(elements=[button]),
    ]


def fixes_line(status: ReviewStatus) -> str:
    """What Apply changes, finding by finding: the card says it before anyone clicks."""
    fixed = [f for f in status.findings if f.patch and f.patch in status.fixes]
    listed = ", ".join(f"`{escape(f.where)}` {escape(f.rule)}" for f in fixed[:8])
    more = f" and {len(fixed) - 8} more" if len(fixed) > 8 else ""
    return f"*Apply* changes: {listed}{more}"


def _notes(notes: list[str]) -> str:
    return "\n".join(f"_{escape(note[:300])}_" for note in notes)[:2000]
