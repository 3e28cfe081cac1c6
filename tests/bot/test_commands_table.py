"""Which words decide, and which only get a private question.

Each row: what a person wrote (mentions of Shipmate included), the explicit command it
is (None when it is not one), and the decision it sounds like (what the private question
would offer when it is said casually in a delivery's thread).
"""

from __future__ import annotations

import pytest

from bot.commands import Command, Verb, parse_command, sounds_like_decision

A, R, C, T = Verb.approve, Verb.reject, Verb.cancel, Verb.retry
B, D = Verb.roll_back, Verb.tear_down

TABLE = [
    # explicit commands
    ("<@U0SHIPMATE> approve", Command(A), A),
    ("<@U0SHIPMATE> approve staging", Command(A, "staging"), A),
    ("<@U0SHIPMATE> Approve Staging", Command(A, "staging"), A),
    ("<@U0SHIPMATE> approve prod", Command(A, "prod"), A),
    ("<@U0SHIPMATE> approve production", Command(A, "prod"), A),
    ("<@U0SHIPMATE> approve live", Command(A, "prod"), A),
    ("<@U0SHIPMATE> please approve the staging deploy", Command(A, "staging"), A),
    ("<@U0SHIPMATE> approve staging please", Command(A, "staging"), A),
    ("<@U0SHIPMATE> approve orders-api prod", Command(A, "prod", "orders-api"), A),
    ("approve prod for orders-api", Command(A, "prod", "orders-api"), A),
    ("<@U0SHIPMATE> approve staging: looks good", Command(A, "staging", reason="looks good"), A),
    ("<@U0SHIPMATE> approve staging — tested", Command(A, "staging", reason="tested"), A),
    ("<@U0SHIPMATE> reject", Command(R), R),
    ("<@U0SHIPMATE> reject prod: freeze week", Command(R, "prod", reason="freeze week"), R),
    ("<@U0SHIPMATE> reject staging because CI red", Command(R, "staging", reason="CI red"), R),
    ("<@U0SHIPMATE> reject, wrong branch", Command(R, reason="wrong branch"), R),
    ("<@U0SHIPMATE> cancel", Command(C), C),
    ("<@U0SHIPMATE> cancel.", Command(C), C),
    ("<@U0SHIPMATE> cancel: wrong database", Command(C, reason="wrong database"), C),
    ("<@U0SHIPMATE> cancel this delivery", Command(C), C),
    ("<@U0SHIPMATE> cancel orders-api", Command(C, service="orders-api"), C),
    ("<@U0SHIPMATE> retry", Command(T), T),
    ("<@U0SHIPMATE> retry it", Command(T), T),
    ("retry delivery/a-api/3-a1b2c3", Command(T, delivery_id="delivery/a-api/3-a1b2c3"), T),
    # undoing: a delivery of its own, gated
    ("<@U0SHIPMATE> roll back orders-api in prod", Command(B, "prod", "orders-api"), None),
    ("<@U0SHIPMATE> rollback orders-api production", Command(B, "prod", "orders-api"), None),
    ("<@U0SHIPMATE> Roll back staging", Command(B, "staging"), None),
    ("<@U0SHIPMATE> tear down orders-api in staging", Command(D, "staging", "orders-api"), None),
    ("<@U0SHIPMATE> teardown the orders-api staging", Command(D, "staging", "orders-api"), None),
    # an undo without its environment, or with a name no service may have: asked about
    ("<@U0SHIPMATE> roll back orders-api", Command(B, service="orders-api"), None),
    ("<@U0SHIPMATE> tear down orders-api", Command(D, service="orders-api"), None),
    ("<@U0SHIPMATE> tear down hinagys in staging", Command(D, "staging", "hinagys"), None),
    ("<@U0SHIPMATE> roll back orderz-api", Command(B, service="orderz-api"), None),
    ("<@U0SHIPMATE> rollback billing prod", Command(B, "prod", "billing"), None),
    ("<@U0SHIPMATE> tear down the whole thing in staging", None, None),
    ("<@U0SHIPMATE> roll back", None, None),
    ("<@U0SHIPMATE> roll back prod?", None, None),
    ("<@U0SHIPMATE> roll back prod if the errors continue", None, None),
    ("should we roll back prod", None, None),
    ("we might tear down staging tomorrow", None, None),
    ("roll back delivery/a-api/3-a1b2c3 prod", None, None),
    # sound like a decision, but are not one: a private question at most
    ("lgtm", None, A),
    ("LGTM!", None, A),
    ("lgtm but wait for CI", None, A),
    ("looks good to me", None, A),
    ("ship it", None, A),
    ("ship it 🚀", None, A),
    ("go ahead", None, A),
    ("+1", None, A),
    ("approved", None, A),
    ("<@U0SHIPMATE> lgtm", None, A),
    ("<@U0SHIPMATE> approve staging?", None, A),
    ("<@U0SHIPMATE> approve staging but wait for CI", None, A),
    ("<@U0SHIPMATE> approve, but only after the migration", None, A),
    ("<@U0SHIPMATE> approve once QA signs off", None, A),
    ("<@U0SHIPMATE> approve if the tests pass", None, A),
    ("approve it when you're ready", None, A),
    ("don't ship this yet", None, R),
    ("rejected, see my comment", None, R),
    ("stop, I have a question", None, C),
    ("please stop", None, C),
    ("abort abort", None, C),
    ("<@U0SHIPMATE> cancel prod", None, C),
    ("let's try again later", None, T),
    ("can you rerun it tomorrow?", None, None),
    # ordinary talk: neither
    ("no worries, take your time", None, None),
    ("no", None, None),
    ("nope", None, None),
    ("what does approve mean here?", None, None),
    ("how do I approve?", None, None),
    ("status", None, None),
    ("thanks!", None, None),
    ("hi", None, None),
    ("also add an approved_at field to orders", None, None),
    ("add a cancel_reason field", None, None),
    ("the stopwatch api is great", None, None),
    ("<!channel> approve", None, A),
]


def test_the_table_is_large_enough():
    assert len(TABLE) >= 40


@pytest.mark.parametrize(("text", "command", "sounds_like"), TABLE, ids=[t for t, *_ in TABLE])
def test_phrasing(text, command, sounds_like):
    assert parse_command(text) == command
    assert sounds_like_decision(text) == sounds_like
