"""The rule parser on the ways people really ask: one row a request, what it must read."""

from __future__ import annotations

import pytest

from shipmate.settings import Settings
from testkit.request_table import CASES, shape
from testkit.request_table import spec_shape as shape_of
from understanding import parse_change, parse_request, understand
from workflows.spec import Api, Database, DeployTarget

# Rows the rule reader gets wrong today, by name: a row that breaks fails the test, and
# so does one that starts to read right (take it off the list, and say so).
KNOWN_MISSES = [
    "an API for a farm: animals have tag (unique), species and born_on date; "
    "fields have name and acres float",
]


def test_the_table_reads_every_row_exactly_but_the_known_misses():
    misses = [(text, want, got) for text, want in CASES if (got := shape(text)) != want]
    report = "\n".join(f"{text!r}\n  want {want}\n  got  {got}" for text, want, got in misses)
    assert len(CASES) >= 120
    assert [text for text, _, _ in misses] == KNOWN_MISSES, report


def test_every_default_is_named():
    result = parse_request("build a todo api")
    assert result.defaults == [
        "database: postgresql",
        "auth: none",
        "deploy target: local",
        "environments: staging",
        "fields of Todo: title, done",
    ]


def test_filler_words_never_become_entities():
    result = parse_request("please can you quickly build us a simple new api with fields name")
    assert result.spec is None
    assert "What should the service manage?" in result.questions[0]


def test_a_target_shipmate_cannot_deploy_to_is_asked_about_before_any_work():
    settings = Settings(openai_api_key=None)
    asked = understand(settings, ["payments api: payments have amount, deploy to prod on lambda"])
    assert asked.spec is None
    assert asked.questions == [
        "I can't deploy to AWS Lambda yet. Shall I run it on ECS (Fargate) instead, or on the "
        'local Docker engine? Say "on ECS" or "locally".'
    ]
    thread = ["payments api: payments have amount, deploy to prod on lambda"]
    on_ecs = understand(settings, [*thread, "ok, on ECS then"])
    assert on_ecs.spec.deploy.target == DeployTarget.aws_ecs
    assert on_ecs.spec.deploy.environments == ["prod"]
    assert understand(settings, [*thread, "locally"]).spec.deploy.target == DeployTarget.local


def test_a_database_that_is_not_built_is_asked_about_and_the_answer_settles_it():
    settings = Settings(openai_api_key=None)
    thread = ["a notes api on mongodb: notes have title and body (text)"]
    asked = understand(settings, thread)
    assert asked.spec is None
    assert asked.questions == [
        "I generate SQL services only, and MongoDB isn't built yet. "
        "Shall it use PostgreSQL, MySQL or SQLite?"
    ]
    answered = understand(settings, [*thread, "postgres is fine"])
    assert answered.spec.database == Database.postgresql


def test_grpc_is_asked_about_alone_or_beside_rest_and_the_answer_settles_it():
    settings = Settings(openai_api_key=None)
    thread = ["we need a grpc api for payments: payments have amount and currency"]
    asked = understand(settings, thread)
    assert asked.questions == ["I can't make gRPC APIs yet. Shall it be REST or GraphQL?"]
    assert asked.choices[0].answers == ["REST", "GraphQL"]
    assert understand(settings, [*thread, "rest then"]).spec.api == [Api.rest]
    beside = ["payments api with REST and gRPC: payments have amount and currency"]
    asked = understand(settings, beside)
    assert asked.spec is None
    assert asked.choices[0].answers == ["REST only"]
    assert understand(settings, [*beside, "REST only"]).spec.api == [Api.rest]


def test_publishing_changes_to_sqs_is_read_for_the_entities_named():
    named = parse_request(
        "shop api: customers have name; orders have customer and total (decimal). "
        "Publish order changes to SQS"
    )
    assert [e.entity for e in named.spec.events] == ["Order"]
    unnamed = parse_request("notes api: notes have title and body (text); emit events to SQS")
    assert [e.entity for e in unnamed.spec.events] == ["Note"]
    assert "events: changes of every entity" in unnamed.defaults
    assert parse_request("build a todo api").spec.events == []


def test_an_entity_named_like_a_part_of_every_service_is_built():
    """Account is also who signs in: the service's own name gives way (#30)."""
    result = parse_request("bank api with jwt: accounts have owner and balance (decimal)")
    assert [e.name for e in result.spec.entities] == ["Account"]
    assert result.questions == []


SHOP = "shop api: customers have name and email; orders have customer and total (decimal)"
CHANGES = [
    ("add a status field to orders", ["+ Order.status (str)"]),
    ("make email unique", ["~ Customer.email: email → email, unique"]),
    ("add a Product entity with name and price (decimal)", ["+ entity Product (name, price)"]),
    ("remove total from orders", ["- Order.total"]),
    ("also deploy to prod", ["~ deploy: local staging ⇒ local staging → prod"]),
    ("publish customer changes to sqs", ["+ Customer changes published to SQS"]),
    (
        "add contact email to customers. default contact_email to ops@example.com",
        ["+ Customer.contact_email (email, default ops@example.com)"],
    ),
    ("add tier to customers; tier defaults to Gold", ["+ Customer.tier (str, default Gold)"]),
    (
        "add shipped_at to orders. default shipped_at to 2026-01-01T00:00:00Z",
        ["+ Order.shipped_at (datetime, default 2026-01-01T00:00:00Z)"],
    ),
    ("add placed date (optional) to orders", ["+ Order.placed_date (date, optional)"]),
]


@pytest.mark.parametrize(("text", "diff"), CHANGES, ids=[c[0] for c in CHANGES])
def test_a_change_request_becomes_the_next_version_with_its_diff(text, diff):
    result = parse_change(parse_request(SHOP).spec, text)
    assert result.diff == diff
    assert result.spec.version == 2


def test_a_change_that_names_nothing_known_is_a_question():
    base = parse_request(SHOP).spec
    unknown = parse_change(base, "add a status field to invoices")
    assert unknown.questions == ["There is no entity Invoice (entities: Customer, Order)."]
    assert parse_change(base, "paint it blue").questions[0].startswith("I didn't catch")


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("add contact email to customers", "'default contact_email to ops@example.com'"),
        ("add shipped_at to orders", "'default shipped_at to 2026-01-01T00:00:00Z'"),
        ("add code (unique) to customers", "'add code (unique, optional) to customers'"),
    ],
)
def test_a_required_field_existing_rows_cannot_fill_is_a_question(text, asked):
    """Never '' into an email or one value into a unique column: Shipmate asks instead."""
    result = parse_change(parse_request(SHOP).spec, text)
    assert result.spec is None
    [question] = result.questions
    assert question.startswith(f"{'Customer' if 'customers' in text else 'Order'} rows that may")
    assert asked in question


TODO = "build a todo api"
CLINIC = "clinic api: patients have name; prescriptions have drug and dose"
ORDERS = "orders api: orders have total (decimal) and status: pending, paid or shipped"
MORE_CHANGES = [
    (TODO, "also add a status field", ["+ Todo.status (str)"]),
    (TODO, "add priority int", ["+ Todo.priority (int)"]),
    (CLINIC, "prescriptions belong to patients", ["+ Prescription.patient → Patient"]),
    (CLINIC, "a patient has many prescriptions", ["+ Prescription.patient → Patient"]),
    (
        SHOP,
        "add a LineItem entity with order, product and quantity int",
        ["+ entity LineItem (product, quantity, order → Order)"],
    ),
    (
        SHOP,
        "add status (pending, paid or shipped) to orders. default status to pending",
        ["+ Order.status (str, one of pending/paid/shipped, default pending)"],
    ),
    (
        ORDERS,
        "add cancelled to the status choices",
        [
            "~ Order.status: str, one of pending/paid/shipped → "
            "str, one of pending/paid/shipped/cancelled"
        ],
    ),
]


@pytest.mark.parametrize(("base", "text", "diff"), MORE_CHANGES, ids=[c[1] for c in MORE_CHANGES])
def test_changes_read_links_choices_and_the_only_entity(base, text, diff):
    result = parse_change(parse_request(base).spec, text)
    assert result.questions == []
    assert result.diff == diff


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("also add a status field", "Which entity should status go on (Customer, Order)?"),
        ("rename total to amount", "Renaming total to amount would lose the values it holds"),
        ("invoices belong to customers", "There is no entity Invoice (entities: Customer, Order)."),
        ("add status (pending or paid) to orders", "default status to pending"),
    ],
)
def test_a_change_that_would_guess_asks_instead(text, asked):
    result = parse_change(parse_request(SHOP).spec, text)
    assert result.spec is None
    assert asked in " ".join(result.questions)


def test_words_it_did_not_use_are_named_and_filler_is_not():
    result = parse_request("a books api with title and author. It should send weekly digests")
    assert result.notes == ["I didn't use: send, weekly, digests."]
    assert parse_request("Spin up a books API backed by MySQL").notes == []


def test_a_stack_it_does_not_build_is_named_in_a_question_and_the_answer_settles_it():
    settings = Settings(openai_api_key=None)
    seed = "Build a secure REST API for order management using NestJS and PostgreSQL"
    asked = understand(settings, [seed])
    assert asked.spec is None
    [choice] = asked.choices
    assert "NestJS isn't built yet" in choice.question
    answered = understand(settings, [seed, choice.answers[0]])
    assert shape_of(answered.spec) == (
        "orders-api postgresql jwt rest local staging | "
        "Order(customer:str, total:decimal, status:str)"
    )


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("an api for ordеrs with total", "'ordеrs' mixes Latin letters"),
        ("tickets have title and sort int", "'sort' is the API's own; pick another"),
        ("a notes api with api key auth", "API keys aren't built yet"),
        ("a notes api deployed to heroku", "Heroku isn't built yet"),
        ("a notes api publishing changes to kafka", "Kafka isn't built yet"),
        ("notes api on oracle", "Oracle isn't built yet"),
    ],
)
def test_a_name_or_part_it_cannot_use_is_a_question_never_a_silent_swap(text, asked):
    result = understand(Settings(openai_api_key=None), [text])
    assert result.spec is None
    assert asked in " ".join(result.questions)
