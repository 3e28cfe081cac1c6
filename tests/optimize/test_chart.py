"""The load test's chart: a PNG a person reads at Slack's preview size, before and after."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
from matplotlib.image import imread

from activities.optimize.chart import ALL, chart_figure, load_chart
from workflows.optimize_models import AGGREGATED, EndpointStats, LoadPoint, LoadResult

PNG = b"\x89PNG\r\n\x1a\n"
ENDPOINTS = {  # name: (requests, p95 ms); the quietest is left off the chart
    "GET /todos?owner": (900, 220.0),
    "GET /todos": (800, 60.0),
    "GET /todos/{id}": (700, 8.0),
    "POST /todos": (300, 15.0),
    "GET /users/{id}": (50, 5.0),
}


def _run(slower: float = 1.0, seconds: int = 30) -> LoadResult:
    timeline, endpoints = [], []
    for name, (requests, p95) in ENDPOINTS.items():
        endpoints.append(EndpointStats(name=name, requests=requests, p95_ms=p95 * slower))
        timeline += [
            LoadPoint(endpoint=name, at_s=t, rps=requests / seconds, p50_ms=p95 * slower / 3,
                      p95_ms=p95 * slower * (1 + t / seconds))
            for t in range(seconds)
        ]  # fmt: skip
    timeline += [
        LoadPoint(endpoint=AGGREGATED, at_s=t, users=10, rps=90 / slower, p50_ms=20 * slower,
                  p95_ms=120 * slower, failures_per_s=1.0 if t == 5 else 0.0)
        for t in range(seconds)
    ]  # fmt: skip
    total = EndpointStats(
        name=AGGREGATED, requests=2750, rps=90 / slower, p50_ms=20 * slower, p95_ms=120 * slower
    )
    return LoadResult(
        target="http://orders-api.local",
        seconds=seconds,
        users=10,
        endpoints=endpoints,
        total=total,
        timeline=timeline,
    )


def _drawn(axes) -> list[str]:
    return [line.get_label() for line in axes.lines if not line.get_label().startswith("_")]


def test_one_run_shows_the_busiest_endpoints_all_requests_and_throughput():
    figure = chart_figure(_run())
    latency, throughput = figure.axes
    assert _drawn(latency) == [
        ALL,
        "GET /todos?owner",
        "GET /todos",
        "GET /todos/{id}",
        "POST /todos",
    ]
    assert len(latency.lines) == 10  # a median beside every 95th percentile
    assert "Response time" in latency.get_title() and "95% within 120 ms" in latency.get_title()
    assert latency.get_ylabel() == "milliseconds" and "seconds" in latency.get_xlabel()
    assert "Requests answered per second" in throughput.get_title()
    assert throughput.get_ylabel() == "requests per second"
    assert _drawn(throughput) == ["Requests per second", "Failures per second"]
    assert "10 users" in figure.get_suptitle() and "orders-api" in figure.get_suptitle()


def test_the_png_is_slack_preview_sized_and_leaves_no_figure_open():
    png = load_chart(_run())
    assert png.startswith(PNG)
    height, width, _ = imread(io.BytesIO(png)).shape
    assert (width, height) == (1200, 800)
    assert plt.get_fignums() == []


def test_before_and_after_sit_side_by_side_on_shared_scales():
    before, after = _run(slower=4.0), _run()
    figure = chart_figure(after, before)
    assert len(figure.axes) == 4
    top_left, top_right, bottom_left, bottom_right = figure.axes
    assert top_left.get_title().startswith("Before") and top_right.get_title().startswith("After")
    assert bottom_left.get_title().startswith("Before")
    assert bottom_right.get_title().startswith("After")
    assert _drawn(top_left) == _drawn(top_right) and ALL in _drawn(top_left)
    assert "95% within 480 ms" in top_left.get_title()
    assert "95% within 120 ms" in top_right.get_title()
    assert top_left.get_ylim() == top_right.get_ylim()  # the drop shows as a drop
    highest = max(max(line.get_ydata()) for line in top_left.lines)
    assert top_right.get_ylim()[1] >= highest
    assert bottom_left.get_ylim() == bottom_right.get_ylim()
    assert bottom_left.get_ylim()[1] >= 90  # the faster run answers more
    assert "90 on average" in bottom_right.get_title()
    assert "Before and after" in figure.get_suptitle()
    assert load_chart(after, before).startswith(PNG)


def test_a_run_without_a_timeline_still_makes_a_chart():
    bare = LoadResult(target="http://x.local", seconds=0, users=1, stopped_early="no answer")
    figure = chart_figure(bare)
    assert all(not axes.lines for axes in figure.axes)
    assert "no figures over time" in figure.axes[0].texts[0].get_text()
    assert load_chart(bare).startswith(PNG)
