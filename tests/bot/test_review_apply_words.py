"""'Apply the fixes' is a command only when it is the whole message: a question or a
negation about applying never hands a review's fixes to a service."""

from __future__ import annotations

import pytest

from bot.reviews import asks_to_apply

COMMANDS = [
    "<@U0SHIPMATE> apply the fixes",
    "<@U0SHIPMATE> ok, apply them please",
    "apply fixes",
    "<@U0SHIPMATE> apply all the fixes!",
    "<@U0SHIPMATE> go ahead and apply the patch",
]
NOT_COMMANDS = [
    "<@U0SHIPMATE> don't apply the fixes yet",
    "<@U0SHIPMATE> should we apply the fixes?",
    "<@U0SHIPMATE> apply the fixes to billing-service too?",
    "<@U0SHIPMATE> apply patch to the prod database",
    "<@U0SHIPMATE> never apply fixes on a friday",
    "<@U0SHIPMATE> did you apply the fixes",
]


@pytest.mark.parametrize("text", COMMANDS)
def test_a_command_to_apply(text):
    assert asks_to_apply(text)


@pytest.mark.parametrize("text", NOT_COMMANDS)
def test_talk_about_applying_is_not_a_command(text):
    assert not asks_to_apply(text)
