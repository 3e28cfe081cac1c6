"""The emulator's web page in headless Chromium: type a request, see the reply, click,
fill in a modal, open the App Home."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator.server import EmulatorConfig, EmulatorServer
from testkit.waiting import eventually
from tests.slack_emulator.test_emulator_events import TOKENS, echo_app
from tests.slack_emulator.test_emulator_views import OPEN_BUTTON, connected


async def test_a_person_chats_with_the_bot_and_clicks_approve(page, tmp_path: Path):
    emulator = await EmulatorServer(EmulatorConfig(port=0, rate_limits=False)).start()
    handler = AsyncSocketModeHandler(
        echo_app(emulator),
        TOKENS["app"],
        web_client=AsyncWebClient(base_url=f"{emulator.base_url}/api/"),
    )
    await handler.connect_async()
    try:
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


async def test_the_thread_pane_closes_and_slack_markup_renders(page, tmp_path: Path):
    emulator = await EmulatorServer(EmulatorConfig(port=0, rate_limits=False)).start()
    slack = AsyncWebClient(token=TOKENS["bot"], base_url=f"{emulator.base_url}/api/")
    try:
        parent = await slack.chat_postMessage(
            channel="C0GENERAL",
            text="Deploying in <#C0DEPLOYS> for <!subteam^S0APPROVERS>, <!here>: "
            "<https://x.example/?a=1&amp;b=2|the logs> and <https://y.example/?c=3&amp;d=4> "
            "until <!date^1767225600^{date_short_pretty} at {time}|2026-01-01 00:00 UTC>, "
            "&lt;b&gt;not bold&lt;/b&gt; <mailto:ops@example.com|mail ops>",
        )
        await slack.chat_postMessage(
            channel="C0GENERAL", text="step 1 done", thread_ts=parent["ts"]
        )
        await slack.chat_postMessage(
            channel="C0GENERAL",
            text="todo-api is live",
            thread_ts=parent["ts"],
            reply_broadcast=True,
        )
        await slack.chat_postEphemeral(
            channel="C0GENERAL",
            user="U0ALICE",
            text="only alice",
            blocks=[
                {"type": "section", "text": {"type": "mrkdwn", "text": "*Only for you*"}},
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "dismiss",
                            "text": {"type": "plain_text", "text": "Dismiss"},
                        }
                    ],
                },
            ],
        )
        await slack.chat_postMessage(channel="U0ALICE", text="a word in private")
        await page.goto(emulator.base_url + "/")
        messages = page.get_by_test_id("messages")
        first = messages.locator(".message").first
        await expect(first).to_contain_text("Deploying in #deploys for @approvers, @here")
        await expect(first).to_contain_text("<b>not bold</b>")
        await expect(first).not_to_contain_text("&amp;")
        await expect(first.get_by_role("link", name="the logs")).to_have_attribute(
            "href", "https://x.example/?a=1&b=2"
        )
        bare = first.get_by_role("link", name="https://y.example/?c=3&d=4")
        await expect(bare).to_have_attribute("href", "https://y.example/?c=3&d=4")
        await expect(first.get_by_role("link", name="mail ops")).to_have_attribute(
            "href", "mailto:ops@example.com"
        )
        await expect(first.locator("time")).not_to_contain_text("2026-01-01 00:00 UTC")
        await expect(first.locator("time")).to_contain_text(" at ")
        await expect(page.get_by_test_id("broadcast")).to_contain_text("replied to a thread")
        ephemeral = page.get_by_test_id("ephemeral")
        await expect(ephemeral).to_contain_text("Only visible to you")
        await expect(ephemeral.get_by_role("button", name="Dismiss")).to_be_visible()

        await messages.get_by_text("2 replies").click()
        thread = page.locator("#thread")
        await expect(page.get_by_test_id("thread")).to_contain_text("step 1 done")
        await expect(thread).to_be_visible()
        await page.get_by_title("Close").click()
        await expect(thread).to_be_hidden()

        await page.locator("#dms li").click()
        await expect(messages).to_contain_text("a word in private")
        await page.locator("#channels li").first.click()
        await page.screenshot(path=str(tmp_path / "markup.png"))
    finally:
        await emulator.stop()


async def test_a_modal_from_the_app_is_filled_in_and_submitted(page, tmp_path: Path):
    seen: list[dict] = []
    async with connected("socket", seen) as emulator:
        slack = AsyncWebClient(token=TOKENS["bot"], base_url=f"{emulator.base_url}/api/")
        await slack.chat_postMessage(channel="C0GENERAL", text="start", blocks=OPEN_BUTTON)
        await page.goto(emulator.base_url + "/")
        await page.get_by_test_id("messages").get_by_role("button", name="New service").click()
        modal = page.get_by_test_id("modal")
        await expect(modal).to_be_visible()
        await expect(modal.locator("h3")).to_have_text("New service")
        await expect(modal).to_contain_text("Notes (optional)")
        await modal.get_by_role("button", name="Create").click()
        error = modal.get_by_test_id("modal-error")
        await expect(error).to_have_text("Please complete this required field.")
        assert seen == []
        name = modal.locator('[data-block-id="service"][data-action-id="name"]')
        await name.fill("taken")
        await modal.get_by_role("button", name="Create").click()
        await expect(error).to_have_text("That name is taken")
        await page.screenshot(path=str(tmp_path / "modal.png"))
        await name.fill("todo-api")
        await modal.locator("textarea").fill("for the demo")
        await modal.get_by_role("button", name="Create").click()
        await expect(modal).to_be_hidden()
        values = seen[-1]["view"]["state"]["values"]
        assert values["service"]["name"]["value"] == "todo-api"
        assert values["notes"]["text"]["value"] == "for the demo"


async def test_the_app_home_renders_and_its_button_reaches_the_app(page, tmp_path: Path):
    seen: list[dict] = []
    async with connected("socket", seen) as emulator:
        await page.goto(emulator.base_url + "/")
        await page.get_by_test_id("as-user").select_option("U0BOB")
        await page.get_by_test_id("app-home").click()
        home = page.get_by_test_id("home")
        await expect(home).to_contain_text("Waiting on you")
        await expect(home).to_contain_text("todo-api v3 → production")
        await home.get_by_role("button", name="Approve").click()
        await eventually(lambda: seen, what="the click in the App Home")
        assert seen[0]["container"]["type"] == "view"
        assert seen[0]["user"]["id"] == "U0BOB"
        await page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
