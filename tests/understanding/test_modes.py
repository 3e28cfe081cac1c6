"""Requests for a mode other than building, and builds that only mention its words.

Each row: what someone wrote, and the mode it asks for (None: a build, read as one).
"""

from __future__ import annotations

import pytest

from shipmate.settings import Settings
from understanding import understand
from understanding.modes import Mode, requested_mode

ROWS = [
    # review
    ("review payments-api", Mode.review),
    ("could you audit our checkout code for anything risky?", Mode.review),
    ("pls look over the billing-service and tell me what you'd improve", Mode.review),
    ("any XSS or CSRF holes in the signup flow of accounts-api?", Mode.review),
    ("what's wrong with ledger-api, it feels hacky", Mode.review),
    ("I'd like a code review of the invoices endpoints", Mode.review),
    # optimize
    ("the search in catalog-api is painfully slow, why?", Mode.optimize),
    ("stress test payments-api in staging with 200 users", Mode.optimize),
    ("can you profile inventory-api? p99 is 4 seconds", Mode.optimize),
    ("our listing endpoint keeps timing out", Mode.optimize),
    ("help me tune the slow queries in reports-api", Mode.optimize),
    # integrate
    ("hook up billing-api so it consumes the order events from orders-api", Mode.integrate),
    ("whenever a payment fails in payments-api, send a message to dunning", Mode.integrate),
    ("connect the crm to Stripe webhooks", Mode.integrate),
    # not something Shipmate does
    ("configure GitLab CI for the mobile repo", Mode.elsewhere),
    ("write unit tests for our legacy django project", Mode.elsewhere),
    ("upgrade our production postgres cluster to 16", Mode.elsewhere),
    ("split the rails monolith into microservices", Mode.review),  # an architecture review
    ("how should we split orders-api into services?", Mode.review),
    ("is orders-api secure?", Mode.review),
    ("review <https://git.example.com/acme/billing.git>", Mode.review),
    ("the printer on floor 3 is jammed again", Mode.elsewhere),
    ("summarize yesterday's incident channel", Mode.elsewhere),
    ("build us a landing page for the spring sale", Mode.elsewhere),
    # builds that only mention those words
    ("a code reviews api: reviews have reviewer, verdict and comments", None),
    ("audit log service: audit entries have actor, action and happened_at", None),
    ("performance reviews backend - reviews (employee, score int, period)", None),
    ("load tracking api for trucks: loads have origin, destination and weight", None),
    ("a pipeline crm: deals have name, stage and value (decimal)", None),
    ("build an orders api and publish order changes to SQS", None),
    ("Create an inventory API and integrate it with a MySQL database.", None),
    ("a webinar signups api: signups (email, webinar, signed up at)", None),
    ("website monitoring api: sites have url and interval int", None),
    ("security incidents tracker: incidents have severity, summary and reported_at", None),
    ("a bookings api: book rooms, rooms have name and floor", None),
    # sign-in through an identity provider is built: part of a build, or a change
    ("let people sign in with Okta on the admin-api", None),
    ("add GitHub login to the dashboard-service", None),
    ("set up OIDC single sign-on for our services", None),
    ("build clinic-api with sqlite and Okta SSO: patients have name", None),
]


@pytest.mark.parametrize(("text", "mode"), ROWS)
def test_the_mode_a_request_asks_for(text, mode):
    asked = requested_mode(text)
    assert (asked.mode if asked else None) == mode


def test_the_answer_names_the_service_and_what_shipmate_does_instead():
    asked = requested_mode("why is orders-api so slow since yesterday?")
    assert asked.service == "orders-api"
    assert "`@shipmate load test orders-api in staging`" in asked.answer
    wiring = requested_mode("consume order events from billing-api")
    assert "What I can do today: build a service" in wiring.answer


def test_a_mode_request_is_never_planned_as_a_service():
    plan = understand(Settings(openai_api_key=None), ["Review my API for security issues"])
    assert plan.spec is None
    assert plan.mode == "review"
    assert plan.questions == [requested_mode("review my api").answer]


def test_the_briefs_examples_go_where_they_should():
    settings = Settings(openai_api_key=None)
    user = understand(
        settings,
        ["Create an API for user management and integrate it with a PostgreSQL database."],
    )
    assert [e.name for e in user.spec.entities] == ["User"]
    assert user.spec.database.value == "postgresql"
    sqs = understand(settings, ["Integrate AWS SQS for event-driven order fulfillment."])
    assert (sqs.spec, sqs.mode) == (None, "integrate")
    monolith = "Refactor this monolithic backend into microservices using Docker and Kubernetes"
    refactor = understand(settings, [monolith])
    assert (refactor.spec, refactor.mode) == (None, "review")  # which code? is asked
    auth = understand(settings, ["Implement role-based authentication with OAuth 2.0 and JWT."])
    assert auth.spec is None and auth.mode is None
    assert auth.questions[0].startswith("What should the service manage?")
