"""The load test's card: one message per optimization, edited as its stages move.

What someone asking "why is orders-api slow?" reads first: the figures of the whole run,
a table of the slowest endpoints, then each slow spot with what was measured and the
change that would help. The chart is uploaded beside it. Endpoint names, statements and
notes came from the service or its database, so all of it is escaped. The only button
is the go-ahead a production environment waits for.
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
from workflows.optimize_models import LoadResult, OptimizeState, OptimizeStatus, SlowSpot

GO_AHEAD = "optimize_go_ahead"
APPLY_SPEEDUPS = "optimize_apply"
TABLE_ROWS = 8
SPOTS_SHOWN = 5
STATE_LINE = {
    OptimizeState.waiting: ":raised_hand: waiting for a yes to load it",
    OptimizeState.running: ":stopwatch: load testing",
    OptimizeState.succeeded: ":bar_chart: measured",
    OptimizeState.failed: ":x: load test failed",
    OptimizeState.cancelled: ":no_entry_sign: not run",
}


def optimize_card(status: OptimizeStatus) -> list[Block]:
    where = status.environment or "its environment"
    blocks: list[Block] = [
        HeaderBlock(text=f"Load test of {status.service} in {where}"[:150]),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{STATE_LINE[status.state]}* · asked by <@{status.requester}>\n"
                + _stage_lines(status)
            )
        ),
    ]
    if status.error:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f":x: {escape(status.error)}")))
    if status.load is not None and status.load.total.requests:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=figures_line(status))))
        blocks.append(SectionBlock(text=MarkdownTextObject(text=endpoint_table(status.load))))
    if status.before is not None and status.load is not None:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=before_after(status))))
    if status.state == OptimizeState.succeeded:
        if not status.spots:
            said = ":white_check_mark: nothing in the database's statistics stands out"
            blocks.append(SectionBlock(text=MarkdownTextObject(text=said)))
        for spot in status.spots[:SPOTS_SHOWN]:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=spot_text(spot))))
        blocks += apply_blocks(status)
    if status.notes:
        notes = "\n".join(f"_{escape(note[:300])}_" for note in status.notes)[:2000]
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=notes)]))
    if status.go_aheads:
        said = "yes to loading it: " + ", ".join(f"<@{user}>" for user in status.go_aheads)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=said)]))
    if status.state == OptimizeState.waiting:
        blocks.append(_go_ahead_button(status))
    return blocks


def card_text(status: OptimizeStatus) -> str:
    """The notification's words: what Slack shows where blocks are not drawn."""
    line = f"Load test of {escape(status.service)}: {STATE_LINE[status.state]}"
    return line + (f" ({figures_line(status)})" if status.load else "")


def figures_line(status: OptimizeStatus) -> str:
    load = status.load
    assert load is not None
    total = load.total
    errors = f", {total.failures} failed" if total.failures else ""
    seeded = f" after {status.seeded} rows were created" if status.seeded else ""
    return (
        f"*{total.rps:.0f} requests/s* with {load.users} users for {load.seconds:.0f} s{seeded}: "
        f"p50 {total.p50_ms:.0f} ms · p95 {total.p95_ms:.0f} ms · p99 {total.p99_ms:.0f} ms"
        f"{errors}"
    )


def endpoint_table(load: LoadResult) -> str:
    """The slowest endpoints first, as a fixed-width table."""
    rows = [f"{'endpoint':<34} {'req':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'fail':>5}"]
    for e in load.endpoints[:TABLE_ROWS]:
        rows.append(
            f"{e.name[:34]:<34} {e.requests:>6} {e.p50_ms:>6.0f} {e.p95_ms:>6.0f} "
            f"{e.p99_ms:>6.0f} {e.failures:>5}"
        )
    more = len(load.endpoints) - TABLE_ROWS
    tail = f"\n…and {more} more endpoints" if more > 0 else ""
    fenced = escape("\n".join(rows).replace("```", "ˋˋˋ"))
    return f"```{fenced}```{tail} (times in ms)"


def spot_text(spot: SlowSpot) -> str:
    where = f" on `{escape(spot.endpoint)}`" if spot.endpoint else ""
    kind = escape(spot.kind.value.replace("_", " "))
    text = (
        f":snail: *{kind}*{where}: {escape(spot.evidence[:400])}"
        f"\n_Change:_ {escape(spot.change[:300])}"
    )
    return text[:2900]


def _stage_lines(status: OptimizeStatus) -> str:
    lines = []
    for stage in status.stages:
        detail = f" — {escape(stage.detail[:200])}" if stage.detail else ""
        lines.append(f"{STAGE_EMOJI[stage.state]} {stage.name}{detail}")
    return "\n".join(lines)


def _go_ahead_button(status: OptimizeStatus) -> Block:
    where = escape(status.environment or "")
    confirm = ConfirmObject(
        title=f"Load {where}?"[:100],
        text=f"Real users of {escape(status.service)} in {where} share it with the load. "
        "It only reads: nothing is created there.",
        confirm="Load it",
        deny="Not now",
    )
    button = ButtonElement(
        text=f"Load test {where}"[:75],
        action_id=GO_AHEAD,
        value=status.optimize_id,
        style="danger",
        confirm=confirm,
    )
    return ActionsBlock(elements=[button])


def apply_blocks(status: OptimizeStatus) -> list[Block]:
    """What Apply would change, and its button; or what became of it."""
    if not status.indexes:
        return []
    changes = ", ".join(
        f"`{escape(change.table)}({escape(change.field)})`" for change in status.indexes
    )
    if status.apply_delivery:
        note = (
            f":hammer_and_wrench: <@{status.applied_by}> asked for indexes on {changes}: a "
            f"change of {escape(status.service)} follows (`{status.apply_delivery}`), then the "
            "same load test again"
        )
        return [ContextBlock(elements=[MarkdownTextObject(text=note)])]
    if status.apply_closed:
        note = "The time to apply these speed-ups from here is over: load test it again."
        return [ContextBlock(elements=[MarkdownTextObject(text=note)])]
    if status.applied_by:
        note = f":hourglass_flowing_sand: <@{status.applied_by}> asked for the speed-ups"
        return [ContextBlock(elements=[MarkdownTextObject(text=note)])]
    confirm = ConfirmObject(
        title="Apply the speed-ups?",
        text=f"A change of {escape(status.service)} adding indexes on {changes} goes through "
        "its tests and approval gates like any change; then the same load test runs again.",
        confirm="Apply",
        deny="Not now",
    )
    button = ButtonElement(
        text=f"Apply {len(status.indexes)} speed-ups"[:75],
        action_id=APPLY_SPEEDUPS,
        value=status.optimize_id,
        style="primary",
        confirm=confirm,
    )
    return [
        SectionBlock(text=MarkdownTextObject(text=f"*Apply* adds indexes on {changes}")),
        ActionsBlock(elements=[button]),
    ]


def before_after(status: OptimizeStatus) -> str:
    """Each endpoint's p95 before and after Apply, and how many times faster."""
    assert status.before is not None and status.load is not None
    was = {e.name: e for e in status.before.endpoints}
    rows = [f"{'endpoint':<34} {'p95 before':>10} {'after':>8} {'faster':>7}"]
    for now in status.load.endpoints[:TABLE_ROWS]:
        old = was.get(now.name)
        if old is None:
            continue
        times = f"{old.p95_ms / now.p95_ms:.1f}x" if now.p95_ms else "-"
        rows.append(f"{now.name[:34]:<34} {old.p95_ms:>10.0f} {now.p95_ms:>8.0f} {times:>7}")
    total_before, total_after = status.before.total, status.load.total
    fenced = escape("\n".join(rows).replace("```", "ˋˋˋ"))
    return (
        f"*Before and after:* p95 {total_before.p95_ms:.0f} ms → {total_after.p95_ms:.0f} ms, "
        f"{total_before.rps:.0f} → {total_after.rps:.0f} requests/s\n```{fenced}```"
    )
