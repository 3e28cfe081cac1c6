"""The rule parser on the ways people really ask: one row a request, what it must read."""

from __future__ import annotations

import pytest

from shipmate.settings import Settings
from understanding import parse_change, parse_request, understand
from workflows.spec import Api, Database, DeployTarget


def shape(text: str) -> str:
    """The spec in one line: name db auth api target envs | Entity(field:type!unique?optional)."""
    result = parse_request(text)
    if result.spec is None:
        return "QUESTION: " + " ".join(result.questions)
    spec = result.spec
    head = " ".join(
        [
            spec.name,
            spec.database.value,
            spec.auth.value,
            "+".join(a.value for a in spec.api),
            spec.deploy.target.value,
            ">".join(spec.deploy.environments) or "-",
        ]
    )
    entities = []
    for entity in spec.entities:
        fields = [
            f"{f.name}:{f.type.value}{'!' if f.unique else ''}{'' if f.required else '?'}"
            for f in entity.fields
        ] + [f"{r.name}->{r.target}" for r in entity.relations]
        entities.append(f"{entity.name}({', '.join(fields)})")
    return head + " | " + " ".join(entities)


CASES = [
    (
        "build a todo api",
        "todo-api postgresql none rest local staging | Todo(title:str, done:bool)",
    ),
    (
        "build a REST API for order management with PostgreSQL and JWT",
        "orders-api postgresql jwt rest local staging | Order(customer:str, total:decimal, status:str)",
    ),
    (
        "user management service: users have email (unique), name and role; admins can delete",
        "users-api postgresql jwt rest local staging | User(email:email!, name:str, role:str)",
    ),
    (
        "a products api with graphql, fields name, price (decimal), in_stock bool, deploy to staging then prod on ECS",
        "products-api postgresql none graphql aws-ecs staging>prod | Product(name:str, price:decimal, in_stock:bool)",
    ),
    (
        "an inventory service with entities warehouses, items and suppliers; items have name, quantity and warehouse",
        "inventory-service postgresql none rest local staging | Warehouse(name:str) Item(name:str, quantity:int, warehouse->Warehouse) Supplier(name:str)",
    ),
    (
        "build a blog backend called my-blog: posts have title, body (text), published_at; comments have author and post",
        "my-blog postgresql none rest local staging | Post(title:str, body:text, published_at:datetime) Comment(author:str, post->Post)",
    ),
    (
        "a shop api with roles: admin, clerk and customer. products have name and price",
        "shop-api postgresql jwt rest local staging | Product(name:str, price:decimal)",
    ),
    (
        "orders with customer, total (decimal) and status",
        "orders-api postgresql none rest local staging | Order(customer:str, total:decimal, status:str)",
    ),
    (
        "create a bookstore api using mysql: books have title, isbn (unique), price and published date",
        "bookstore-api mysql none rest local staging | Book(title:str, isbn:str!, price:decimal, published_date:date)",
    ),
    (
        "make a tickets service with sqlite, tickets have title, description, priority int and closed bool",
        "tickets-service sqlite none rest local staging | Ticket(title:str, description:text, priority:int, closed:bool)",
    ),
    (
        "Build an events API with Postgress. events have name, starts_at, ends_at and capacity",
        "events-api postgresql none rest local staging | Event(name:str, starts_at:datetime, ends_at:datetime, capacity:int)",
    ),
    (
        "a customer api in mongodb: customers have name, email unique, phone (optional)",
        "customer-api mongodb none rest local staging | Customer(name:str, email:email!, phone:str?)",
    ),
    (
        "we need a grpc api for payments: payments have amount, currency and paid_at, deploy to prod on lambda",
        "payments-api postgresql none grpc aws-lambda prod | Payment(amount:decimal, currency:str, paid_at:datetime)",
    ),
    (
        "scaffold an employee directory service, employees have first name, last name, email (unique) and hired on date",
        "directory-service postgresql none rest local staging | Employee(first_name:str, last_name:str, email:email!, hired_on:date)",
    ),
    (
        "crud api for vehicles: vehicles have plate (unique), make, model year int",
        "vehicles-api postgresql none rest local staging | Vehicle(plate:str!, make:str, model_year:int)",
    ),
    (
        "recipes api with no auth. recipes have title, instructions text, minutes int",
        "recipes-api postgresql none rest local staging | Recipe(title:str, instructions:text, minutes:int)",
    ),
    (
        "a notes api, deploy to dev then staging then production",
        "notes-api postgresql none rest local dev>staging>prod | Note(title:str, body:text)",
    ),
    (
        "i want a projects and tasks api: projects have name; tasks have title, done and project",
        "tasks-api postgresql none rest local staging | Project(name:str) Task(title:str, done:bool, project->Project)",
    ),
    (
        "A GRAPHQL API FOR MOVIES: MOVIES HAVE TITLE, RATING FLOAT AND RELEASED DATE",
        "movies-api postgresql none graphql local staging | Movie(title:str, rating:float, released_date:date)",
    ),
    (
        "a library service with oauth: entities books, members and loans; loans have book, member and due date",
        "library-service postgresql oauth2 rest local staging | Book(title:str, author:str) Member(name:str) Loan(due_date:date, book->Book, member->Member)",
    ),
    (
        "invoices api with dynamodb, invoices have number (unique), amount (decimal), issued date. don't deploy",
        "invoices-api dynamodb none rest none - | Invoice(number:str!, amount:decimal, issued_date:date)",
    ),
    (
        "api for tracking shipments: shipments have tracking_code (unique), carrier and delivered_at (optional)",
        "shipments-api postgresql none rest local staging | Shipment(tracking_code:str!, carrier:str, delivered_at:datetime?)",
    ),
    (
        "a polls api: questions have text and pub_date; choices have question, choice text and votes int",
        "polls-api postgresql none rest local staging | Question(text:text, pub_date:date) Choice(choice:text, votes:int, question->Question)",
    ),
    (
        "hi",
        "QUESTION: What should the service manage? Name the things and their fields, e.g. 'orders with customer, total (decimal) and status'.",
    ),
    (
        "status?",
        "QUESTION: What should the service manage? Name the things and their fields, e.g. 'orders with customer, total (decimal) and status'.",
    ),
    (
        "can you help me",
        "QUESTION: What should the service manage? Name the things and their fields, e.g. 'orders with customer, total (decimal) and status'.",
    ),
    (
        "deploy a todos api to prod or staging",
        "QUESTION: Which environment should this go to first: prod or staging?",
    ),
    (
        "build a pets api with jwt, roles: owner and vet. pets have name, species and birth date",
        "pets-api postgresql jwt rest local staging | Pet(name:str, species:str, birth_date:date)",
    ),
    (
        "create a devices api, devices have serial uuid, active bool and last seen datetime",
        "devices-api postgresql none rest local staging | Device(serial:uuid, active:bool, last_seen:datetime)",
    ),
    (
        "a weather stations api: stations have name, latitude float, longitude float",
        "stations-api postgresql none rest local staging | Station(name:str, latitude:float, longitude:float)",
    ),
    (
        "make me a contacts service with postgresql and jwt auth. contacts have name, email and phone",
        "contacts-service postgresql jwt rest local staging | Contact(name:str, email:email, phone:str)",
    ),
    (
        "build an api for managing courses with mariadb: courses have title, credits int and active",
        "courses-api mysql none rest local staging | Course(title:str, credits:int, active:bool)",
    ),
    (
        "a feedback api where feedback has message text, score int and email",
        "feedback-api postgresql none rest local staging | Feedback(message:text, score:int, email:email)",
    ),
    (
        "warehouse api deployed locally: warehouses have code (unique) and city",
        "warehouse-api postgresql none rest local staging | Warehouse(code:str!, city:str)",
    ),
    (
        "leaderboard service: players have nickname (unique) and score int; deploy to staging on aws",
        "leaderboard-service postgresql none rest aws-ecs staging | Player(nickname:str!, score:int)",
    ),
    (
        "build an orders service, orders have customer, total (decimal) and status. customers have name and email (unique)",
        "orders-service postgresql none rest local staging | Order(total:decimal, status:str, customer->Customer) Customer(name:str, email:email!)",
    ),
    (
        "please build a simple subscriptions api with stripe_id (unique), plan and renews_at",
        "subscriptions-api postgresql none rest local staging | Subscription(stripe_id:str!, plan:str, renews_at:datetime)",
    ),
    (
        "an authors and books api: authors have name; books have title and author",
        "books-api postgresql none rest local staging | Author(name:str) Book(title:str, author->Author)",
    ),
    (
        "build a todo api; deploy to prod",
        "todo-api postgresql none rest local prod | Todo(title:str, done:bool)",
    ),
    (
        "a messages api with sqllite: messages have sender, body and sent_at",
        "messages-api sqlite none rest local staging | Message(sender:str, body:text, sent_at:datetime)",
    ),
    (
        "a todo list api: tasks hav title and done, deploy to stagin",
        "tasks-api postgresql none rest local staging | Task(title:str, done:bool)",
    ),
    (
        "build a REST API for order managment with postgress and jwt",
        "orders-api postgresql jwt rest local staging | Order(customer:str, total:decimal, status:str)",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_request_reads_as_expected(text, expected):
    assert shape(text) == expected


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


def test_grpc_alone_is_asked_about_and_grpc_beside_rest_is_left_out_with_a_note():
    settings = Settings(openai_api_key=None)
    thread = ["we need a grpc api for payments: payments have amount and currency"]
    asked = understand(settings, thread)
    assert asked.questions == ["I can't make gRPC APIs yet. Shall it be REST or GraphQL?"]
    answered = understand(settings, [*thread, "rest then"])
    assert answered.spec.api == [Api.rest]
    assert "gRPC isn't built yet, so this has REST only." in answered.notes


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


def test_a_reserved_entity_name_is_a_question_not_a_crash():
    result = parse_request("bank api: accounts have owner and balance (decimal)")
    assert result.spec is None
    assert result.questions == [
        "Entity name 'Account' is reserved; pick another. Could you correct that?"
    ]


SHOP = "shop api: customers have name and email; orders have customer and total (decimal)"
CHANGES = [
    ("add a status field to orders", ["+ Order.status (str)"]),
    ("make email unique", ["~ Customer.email: email → email, unique"]),
    ("add a Product entity with name and price (decimal)", ["+ entity Product (name, price)"]),
    ("remove total from orders", ["- Order.total"]),
    ("also deploy to prod", ["~ deploy: local staging ⇒ local staging → prod"]),
    ("publish customer changes to sqs", ["+ Customer changes published to SQS"]),
    (
        "add contact email to customers. default contact to ops@example.com",
        ["+ Customer.contact (email, default ops@example.com)"],
    ),
    ("add tier to customers; tier defaults to Gold", ["+ Customer.tier (str, default Gold)"]),
    (
        "add shipped_at to orders. default shipped_at to 2026-01-01T00:00:00Z",
        ["+ Order.shipped_at (datetime, default 2026-01-01T00:00:00Z)"],
    ),
    ("add placed date (optional) to orders", ["+ Order.placed (date, optional)"]),
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
        ("add contact email to customers", "'default contact to ops@example.com'"),
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
