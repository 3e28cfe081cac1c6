"""The emulator's web page in headless Chromium: type a request, see the reply, click."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator.server import EmulatorConfig, EmulatorServer
from tests.test_emulator_events import TOKENS, echo_app

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture()
async def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail("Chromium missing: apt-get install -y chromium (deploy/setup-local.sh does)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        await browser.close()


async def test_a_person_chats_with_the_bot_and_clicks_approve(browser, tmp_path: Path):
    emulator = await EmulatorServer(EmulatorConfig(port=0, rate_limits=False)).start()
    handler = AsyncSocketModeHandler(
        echo_app(emulator),
        TOKENS["app"],
        web_client=AsyncWebClient(base_url=f"{emulator.base_url}/api/"),
    )
    await handler.connect_async()
    try:
        page = await browser.new_page()
        await page.goto(emulator.base_url + "/")
        await page.get_by_test_id("text").fill("@shipmate build a todo api")
        await page.get_by_test_id("text").press("Enter")
        messages = page.get_by_test_id("messages")
        await expect(messages).to_contain_text("@shipmate build a todo api")
        await messages.get_by_text("1 reply").click()
        thread = page.get_by_test_id("thread")
        await expect(thread).to_contain_text("Ship it?")

        await page.get_by_test_id("as-user").select_option("U0BOB")
        await thread.get_by_role("button", name="Approve").click()
        await expect(thread).to_contain_text("Approved")
        await expect(page.get_by_test_id("ephemeral")).to_contain_text("approved delivery/x/1")

        await page.get_by_test_id("text").fill("/shipmate status")
        await page.get_by_test_id("text").press("Enter")
        ephemeral = page.get_by_test_id("ephemeral")
        await expect(ephemeral).to_contain_text("ran /shipmate status in C0GENERAL")
        await expect(messages).not_to_contain_text("/shipmate status")  # a command posts nothing
        await page.screenshot(path=str(tmp_path / "emulator.png"), full_page=True)
    finally:
        await handler.close_async()
        await emulator.stop()
