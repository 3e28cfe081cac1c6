"""A picture the bot shares is shown in the emulator's page, as Slack shows it: the load
test's chart, uploaded with files_upload_v2, decoded by Chromium in the thread."""

from __future__ import annotations

import asyncio

from playwright.async_api import expect
from slack_sdk import WebClient

from activities.optimize.chart import load_chart
from slack_emulator.server import EmulatorConfig, EmulatorServer
from slack_emulator.workspace import DEFAULT_SEED
from workflows.optimize_models import EndpointStats, LoadPoint, LoadResult

TOKENS = DEFAULT_SEED["tokens"]


def a_load_test() -> LoadResult:
    timeline = [
        LoadPoint(endpoint=name, at_s=s, users=10, rps=40 + s, p50_ms=20 + s, p95_ms=90 + 2 * s)
        for name in ("Aggregated", "GET /orders", "GET /orders?status")
        for s in range(20)
    ]
    total = EndpointStats(name="Aggregated", requests=900, p50_ms=25, p95_ms=110, rps=45)
    return LoadResult(
        target="http://127.0.0.1:18080", seconds=20, users=10, total=total, timeline=timeline
    )


async def test_the_page_shows_a_shared_chart_as_a_picture(page, tmp_path):
    emulator = await EmulatorServer(EmulatorConfig(port=0, rate_limits=False)).start()
    try:
        slack = WebClient(token=TOKENS["bot"], base_url=f"{emulator.base_url}/api/")
        asked = await asyncio.to_thread(
            slack.chat_postMessage, channel="C0GENERAL", text="load test orders-api"
        )
        shared = await asyncio.to_thread(
            slack.files_upload_v2,
            channel="C0GENERAL",
            thread_ts=asked["ts"],
            initial_comment="Load test of orders-api in staging",
            file_uploads=[
                {
                    "content": load_chart(a_load_test()),
                    "filename": "load-orders-api-staging.png",
                    "title": "Load test of orders-api in staging",
                }
            ],
        )
        assert shared["files"][0]["mimetype"] == "image/png"

        await page.goto(emulator.base_url + "/")
        await page.get_by_test_id("messages").get_by_text("1 reply").click()
        picture = page.get_by_test_id("thread").get_by_test_id("file-image")
        await expect(picture).to_have_count(1)
        await expect(picture).to_have_attribute("alt", "Load test of orders-api in staging")
        decoded = await picture.evaluate("img => img.decode().then(() => img.naturalWidth)")
        assert decoded == 1200  # Chromium read the PNG: the chart, not a broken image
        await page.screenshot(path=str(tmp_path / "chart-in-thread.png"), full_page=True)
    finally:
        await emulator.stop()
