"""A reject with a reason, the way a person does it: in the emulator's page, in Chromium,
against the real bot, Temporal and worker."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import expect

from testkit.chat import letters


async def test_bob_rejects_with_a_reason_in_the_page(page, bot, emulator, tmp_path: Path):
    name = f"ledger{letters()}"
    await page.set_viewport_size({"width": 1400, "height": 900})
    await page.goto(emulator.base_url + "/")
    await page.get_by_test_id("text").fill(f"@shipmate build a {name} api")
    await page.get_by_test_id("text").press("Enter")
    messages = page.get_by_test_id("messages")
    await messages.get_by_text(re.compile(r"^\d+ repl")).first.click(timeout=30_000)
    thread = page.get_by_test_id("thread")
    await expect(thread).to_contain_text("waiting for approval", timeout=60_000)
    await expect(thread).to_contain_text("1 more needed from @bob")  # who must act

    await page.get_by_test_id("as-user").select_option("U0BOB")
    await thread.get_by_role("button", name="Reject…").click()
    modal = page.get_by_test_id("modal")
    await expect(modal).to_be_visible()
    await expect(modal.locator("h3")).to_have_text("Reject staging")
    await modal.get_by_role("button", name="Reject").click()  # no reason yet
    await expect(modal.get_by_test_id("modal-error")).to_be_visible()
    await modal.locator("textarea").fill("freeze week <!here>")
    await page.screenshot(path=str(tmp_path / "reject-with-reason.png"))
    await modal.get_by_role("button", name="Reject").click()
    await expect(modal).to_be_hidden()

    # The reason arrives inert: shown as written, pinging nobody.
    await expect(thread).to_contain_text("@bob rejected staging: freeze week <!here>")
    await expect(thread).to_contain_text("rejected", timeout=30_000)
    await expect(thread.get_by_role("button", name="Reject…")).to_have_count(0)
    await page.screenshot(path=str(tmp_path / "rejected.png"), full_page=True)
