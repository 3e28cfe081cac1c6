"""What a message asks for, before any plan: a question about what runs, a build, or a
mode of its own. Each row: what someone wrote, the intent, and the service it names."""

from __future__ import annotations

import pytest

from bot.intents import Intent, read

ROWS = [
    # what runs where
    ("what's deployed in prod?", Intent.deployed, None),
    ("is payroll-api up?", Intent.deployed, "payroll-api"),
    ("are the search-service pods healthy", Intent.deployed, "search-service"),
    ("which version of payroll-api runs in staging", Intent.deployed, "payroll-api"),
    ("what environments is ledger-api in?", Intent.deployed, "ledger-api"),
    ("where does ledger-api run", Intent.deployed, "ledger-api"),
    ("list all our services", Intent.deployed, None),
    ("what services do we have", Intent.deployed, None),
    ("show me what you've deployed so far", Intent.deployed, None),
    ("what have you built", Intent.deployed, None),
    # how a delivery went
    ("status?", Intent.status, None),
    ("did the payroll-api deploy go through?", Intent.status, "payroll-api"),
    ("has ledger-api finished", Intent.status, "ledger-api"),
    ("is the search-service release done?", Intent.status, "search-service"),
    # history
    ("when was payroll-api last shipped to prod", Intent.history, "payroll-api"),
    ("history of ledger-api", Intent.history, "ledger-api"),
    # builds that start like a question are still builds
    ("can you build a payroll api: employees have name and salary", Intent.build, None),
    ("is it possible to make a notes api with title and body?", Intent.build, None),
    ("what about a recipes api: recipes have title and steps (long text)", Intent.build, None),
    # modes of their own
    ("review payroll-api", Intent.review, "payroll-api"),
    ("why is payroll-api slow", Intent.optimize, "payroll-api"),
    ("make ledger-api consume the payroll events", Intent.integrate, "ledger-api"),
    ("write the onboarding docs for our wiki", Intent.elsewhere, None),
    ("translate the release notes into german", Intent.elsewhere, None),
]


@pytest.mark.parametrize(("text", "intent", "service"), ROWS)
def test_what_a_message_asks_for(text, intent, service):
    reading = read(f"<@U0SHIPMATE> {text}")
    assert (reading.intent, reading.service) == (intent, service)
