"""The whole story with real parts: Slack emulator, bot, Temporal, real stages on Docker.

alice asks in #general, bob approves with the button, the service answers at the URL
the thread announces; then the same story through the emulator's page in Chromium.
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.async_api import expect
from pydantic import SecretStr

from activities.deploy_targets.local import LocalDocker
from cli.worker import build_workers
from slack_emulator.server import EmulatorConfig, EmulatorServer
from testkit.chat import TOKENS, Chat, letters, start_bot
from workflows.stage_models import TeardownInput


@pytest.fixture()
async def real_stack(client, settings, docker_ready):
    emulator = await EmulatorServer(EmulatorConfig(port=0)).start()
    local = settings.model_copy(
        update={
            "task_queue": f"e2e-{uuid.uuid4().hex[:6]}",
            "slack_bot_token": SecretStr(TOKENS["bot"]),
            "slack_app_token": SecretStr(TOKENS["app"]),
            "slack_api_url": f"{emulator.base_url}/api/",
        }
    )
    async with build_workers(client, local):
        handler = await start_bot(local, emulator)
        try:
            yield emulator, local
        finally:
            await handler.close_async()
            await emulator.stop()


def tear_down(settings, service: str) -> None:
    LocalDocker().tear_down(
        settings, TeardownInput(service=service, environment="staging"), heartbeat=print
    )


async def test_from_a_mention_to_a_service_that_answers(real_stack):
    emulator, settings = real_stack
    chat = Chat(emulator)
    name = f"stock{letters()}"
    ts = await chat.say(
        "U0ALICE",
        f"<@U0SHIPMATE> build a {name} api: {name}s have sku (unique),"
        " quantity (int) and price (decimal)",
    )
    try:
        card = await chat.card(ts, "waiting for approval", timeout=300)
        assert ":white_check_mark: test" in str(card["blocks"])
        await chat.click("U0BOB", card["ts"], "approve")
        live = await chat.wait_for(ts, lambda r: "is live in *staging*" in r["text"], timeout=120)
        url = re.search(r"http://127\.0\.0\.1:\d+", live["text"]).group(0)
        async with httpx.AsyncClient() as web:
            assert (await web.get(f"{url}/health")).json()["service"] == f"{name}-api"
            created = await web.post(
                f"{url}/{name}s", json={"sku": "A-1", "quantity": 3, "price": "9.99"}
            )
            assert created.status_code == 201, created.text
            conflict = await web.post(
                f"{url}/{name}s", json={"sku": "A-1", "quantity": 1, "price": "1.00"}
            )
            assert conflict.status_code == 409
        asked = await chat.say("U0CAROL", "<@U0SHIPMATE> what's deployed in staging?")
        answer = await chat.wait_for(asked, lambda r: True)
        assert f"*{name}-api* v1 in *staging*: {url}" in answer["text"]
    finally:
        tear_down(settings, f"{name}-api")


async def test_the_same_story_through_the_page_in_chromium(real_stack, browser):
    emulator, settings = real_stack
    name = f"depot{letters()}"
    page = await browser.new_page()
    try:
        await page.goto(emulator.base_url + "/")
        await page.get_by_test_id("text").fill(f"@shipmate build a {name} api")
        await page.get_by_test_id("text").press("Enter")
        messages = page.get_by_test_id("messages")
        await expect(messages).to_contain_text(f"build a {name} api")
        await messages.get_by_text(re.compile(r"\d+ repl")).first.click(timeout=30_000)
        thread = page.get_by_test_id("thread")
        approve = thread.get_by_role("button", name="Approve staging")
        await expect(approve).to_be_visible(timeout=300_000)

        await page.get_by_test_id("as-user").select_option("U0BOB")
        await approve.click()
        await expect(thread).to_contain_text("is live in staging", timeout=120_000)
        await expect(thread).to_contain_text("delivered")
        # and the address the page shows answers as that service
        said = await thread.get_by_text("is live in staging").first.inner_text()
        url = re.search(r"http://127\.0\.0\.1:\d+", said).group(0)
        async with httpx.AsyncClient() as web:
            assert (await web.get(f"{url}/health")).json()["service"] == f"{name}-api"
    finally:
        await page.close()
        tear_down(settings, f"{name}-api")
