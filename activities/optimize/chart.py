"""The chart of a load test, posted in the thread beside the report.

A person should see in one glance how fast the service answered and how much it took,
and after a change, whether it got better: response times of the busiest endpoints and
of all requests, and requests per second, over the run. Before and after sit side by
side on the same scales, so a drop is a drop and not a change of axis. Figures are made
without pyplot (it keeps every figure it makes, and is not safe in a worker's threads).
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from workflows.optimize_models import AGGREGATED, LoadPoint, LoadResult

SHOWN = 4  # endpoints drawn beside all requests: more would not be told apart
SIZE = (12, 8)  # inches at DPI: Slack's preview size
DPI = 100
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"]
ALL = "All requests"


def load_chart(result: LoadResult, before: LoadResult | None = None) -> bytes:
    """The PNG of `chart_figure`."""
    figure = chart_figure(result, before)
    FigureCanvasAgg(figure)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    figure.clear()
    return out.getvalue()


def chart_figure(result: LoadResult, before: LoadResult | None = None) -> Figure:
    """Response times (top) and requests per second (bottom) over the run; with
    `before`, that run on the left and this one on the right, on shared scales."""
    runs = [("", result)] if before is None else [("Before", before), ("After", result)]
    shown = _busiest(result)
    colors = {name: COLORS[n % len(COLORS)] for n, name in enumerate(shown)}
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    grid = figure.subplots(2, len(runs), sharey="row", squeeze=False)
    for column, (label, run) in enumerate(runs):
        _latency(grid[0][column], run, shown, colors, label)
        _throughput(grid[1][column], run, label)
    for row in grid:  # one scale per row, from 0 to the highest point of any run
        highest = max((max(line.get_ydata()) for a in row for line in a.lines), default=0)
        row[0].set_ylim(0, highest * 1.08 or 1)
    named = {line.get_label(): line for axes in grid[0] for line in axes.lines}
    if handles := [line for label, line in named.items() if not label.startswith("_")]:
        key = "solid: 95th percentile\ndashed: median"
        figure.legend(handles=handles, loc="outside right upper", fontsize=10, title=key)
    what = f"{result.users} users for {result.seconds:.0f} s against {result.target}"
    figure.suptitle(f"Load test: {what}" if not before else f"Before and after: {what}", size=14)
    return figure


def _busiest(result: LoadResult) -> list[str]:
    """The endpoints with the most requests that have a timeline to draw."""
    drawn = {p.endpoint for p in result.timeline} - {AGGREGATED}
    ranked = sorted(
        (e for e in result.endpoints if e.name in drawn and e.name != AGGREGATED),
        key=lambda e: -e.requests,
    )
    names = [e.name for e in ranked] + sorted(drawn - {e.name for e in ranked})
    return names[:SHOWN]


def _points(run: LoadResult, endpoint: str) -> list[LoadPoint]:
    return sorted((p for p in run.timeline if p.endpoint == endpoint), key=lambda p: p.at_s)


def _latency(axes, run: LoadResult, shown: list[str], colors: dict, label: str) -> None:
    overall = f"median {run.total.p50_ms:.0f} ms, 95% within {run.total.p95_ms:.0f} ms"
    axes.set_title(f"{label + chr(10) if label else ''}Response time: {overall}", fontsize=12)
    for name, color, width in [(ALL, "black", 2.5)] + [(n, colors[n], 1.5) for n in shown]:
        points = _points(run, AGGREGATED if name == ALL else name)
        if not points:
            continue
        at = [p.at_s for p in points]
        axes.plot(at, [p.p95_ms for p in points], color=color, lw=width, label=name)
        axes.plot(
            at, [p.p50_ms for p in points], color=color, lw=width * 0.7, ls="--",
            label=f"_{name} median",
        )  # fmt: skip
    _frame(axes, "milliseconds")


def _throughput(axes, run: LoadResult, label: str) -> None:
    points = _points(run, AGGREGATED)
    total = f"{run.total.rps:.0f} on average"
    axes.set_title(
        f"{label + ': ' if label else ''}Requests answered per second ({total})", fontsize=12
    )
    if points:
        at = [p.at_s for p in points]
        axes.plot(at, [p.rps for p in points], color="black", lw=2.5, label="Requests per second")
        if any(p.failures_per_s for p in points):
            failures = [p.failures_per_s for p in points]
            axes.plot(at, failures, color="#d62728", lw=1.5, label="Failures per second")
            axes.legend(loc="best", fontsize=10)
    _frame(axes, "requests per second")


def _frame(axes, unit: str) -> None:
    if not axes.lines:
        axes.text(0.5, 0.5, "no figures over time", ha="center", transform=axes.transAxes)
    axes.set_xlabel("seconds into the test", fontsize=11)
    axes.set_ylabel(unit, fontsize=11)
    axes.grid(alpha=0.3)
    axes.tick_params(labelsize=10)
