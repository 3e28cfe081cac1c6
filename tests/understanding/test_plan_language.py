"""The plan language (#30): what render writes, read reads back exactly, for any valid spec
Hypothesis draws; plans people type are read as they meant them; and a wrong plan is refused
with its line and a reason in one line."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from understanding.plan_language import PlanLanguageError, read, render
from workflows.event_spec import Sink
from workflows.permissions import Action
from workflows.privacy import Privacy
from workflows.spec import (
    CHOICE,
    ENVIRONMENT_NAME,
    FIELD_NAME,
    Api,
    Auth,
    Database,
    DeploySpec,
    DeployTarget,
    EntitySpec,
    EventSpec,
    FieldSpec,
    FieldType,
    OnDelete,
    RelationSpec,
    ServiceSpec,
    default_fits,
)


def _valid(make, **values) -> bool:
    try:
        make(**values)
    except ValidationError:
        return False
    return True


SERVICE = st.from_regex(r"[a-z][a-z0-9]{2,8}(-[a-z0-9]{1,5}){0,2}", fullmatch=True)
ENTITY = st.from_regex(r"[A-Z][a-zA-Z0-9]{0,8}", fullmatch=True).filter(
    lambda name: _valid(EntitySpec, name=name)
)
FIELD = st.from_regex(r"[a-z][a-z0-9_]{0,9}", fullmatch=True).filter(
    lambda name: _valid(FieldSpec, name=name)
)
ROLE = st.from_regex(FIELD_NAME, fullmatch=True).filter(lambda role: len(role) <= 12)
WORD = st.from_regex(CHOICE, fullmatch=True).filter(lambda choice: len(choice) <= 10)
ENVIRONMENT = st.from_regex(ENVIRONMENT_NAME, fullmatch=True)
# Text that must be quoted to read back: spaces, commas, quotes, ·, ->, breaks, NUL.
ODD_TEXT = st.text(st.sampled_from('ab1-> ",()·;→"#é\xa0\n\t\x00\u2028')) | st.text(
    st.characters(codec="utf-8")
)
DEFAULTS = {
    FieldType.str: ODD_TEXT.filter(lambda text: len(text) <= 20),
    FieldType.text: ODD_TEXT,
    FieldType.int: st.integers().map(str) | st.sampled_from([" 7", "1_000", "+3", "-0"]),
    FieldType.float: st.floats().map(repr) | st.sampled_from(["1e3", " 2.5 ", "-inf"]),
    FieldType.decimal: st.decimals().map(str) | st.sampled_from(["0.00", "1E+2", " 3.10 "]),
    FieldType.bool: st.sampled_from(["true", "false"]),
    FieldType.date: st.dates().map(dt.date.isoformat),
    FieldType.datetime: st.datetimes(timezones=st.none() | st.just(dt.UTC)).map(
        dt.datetime.isoformat
    ),
    FieldType.uuid: st.uuids().map(str) | st.uuids().map(lambda u: "{" + u.hex + "}"),
    FieldType.email: st.from_regex(r"[^@\s]{1,8}@[^@\s]{1,8}\.[^@\s]{1,4}", fullmatch=True),
}


@st.composite
def fields(draw, name: str) -> FieldSpec:
    kind = draw(st.sampled_from(FieldType))
    choices = []
    if kind == FieldType.str and draw(st.booleans()):
        choices = draw(st.lists(WORD, min_size=2, max_size=4, unique=True))
    values = st.sampled_from(choices) if choices else DEFAULTS[kind]
    default = draw(st.none() | values.filter(lambda text: default_fits(kind, text)))
    return FieldSpec(
        name=name,
        type=kind,
        required=draw(st.booleans()),
        unique=draw(st.booleans()),
        default=default,
        choices=choices,
        indexed=draw(st.booleans()),
        privacy=draw(st.none() | st.sampled_from(Privacy)),
    )


@st.composite
def specs(draw) -> ServiceSpec:
    auth = draw(st.sampled_from(Auth))
    roles = draw(st.lists(ROLE, unique=True, max_size=3))
    names = draw(st.lists(ENTITY, unique=True, max_size=4))
    entities = []
    for name in names:
        given_names = draw(st.lists(FIELD, unique=True, max_size=5))
        cut = draw(st.integers(0, len(given_names)))
        links = [
            RelationSpec(
                name=link,
                target=draw(st.sampled_from(names)),
                required=draw(st.booleans()),
                on_delete=draw(st.sampled_from(OnDelete)),
            )
            for link in given_names[cut:]
        ]
        rules = st.dictionaries(
            st.sampled_from(Action), st.lists(st.sampled_from(["admin", *roles]), unique=True)
        )
        values = {
            "name": name,
            "fields": [draw(fields(field)) for field in given_names[:cut]],
            "relations": links,
            "permissions": {} if auth == Auth.none else draw(rules),
        }
        assume(_valid(EntitySpec, **values))  # e.g. a field `customer_id` beside a link
        entities.append(EntitySpec(**values))
    sinks = st.sampled_from(list(Sink))
    events = st.builds(EventSpec, entity=st.sampled_from(names), sink=sinks) if names else None
    values = {
        "name": draw(SERVICE),
        "description": draw(st.text(max_size=20)),
        "version": draw(st.integers(1, 99)),
        "api": draw(st.lists(st.sampled_from(Api), unique=True)),
        "database": draw(st.sampled_from(Database)),
        "auth": auth,
        "roles": roles,
        "entities": entities,
        "events": draw(st.lists(events, max_size=3, unique_by=lambda e: (e.entity, e.sink)))
        if names
        else [],
        "deploy": DeploySpec(
            target=draw(st.sampled_from(DeployTarget)),
            environments=draw(st.lists(ENVIRONMENT, unique=True, max_size=3)),
        ),
    }
    assume(_valid(ServiceSpec, **values))  # e.g. Bus and Buse, one path
    return ServiceSpec(**values)


UNPLANNED = {"description": "", "stack": "fastapi", "version": 1}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_a_rendered_plan_reads_back_as_the_spec_it_came_from(spec: ServiceSpec) -> None:
    text = render(spec)
    assert read(text) == spec.model_copy(update=UNPLANNED)
    assert read(text, base=spec) == spec
    assert render(read(text)) == text


@settings(max_examples=200, deadline=None)
@given(ODD_TEXT)
def test_any_text_reads_back_as_a_default(text: str) -> None:
    note = FieldSpec(name="note", type=FieldType.text, default=text)
    spec = ServiceSpec(
        name="notes-api",
        entities=[EntitySpec(name="Note", fields=[note])],
        events=[EventSpec(entity="Note", sink=Sink.nats)],
    )
    assert read(render(spec)) == spec


def test_rabbitmq_on_ecs_is_refused_until_it_is_built_there() -> None:
    plan = "service notes-api\ndeploy aws-ecs: staging\nNote: title\nevents Note to rabbitmq"
    with pytest.raises(PlanLanguageError, match="SQS only .* RabbitMQ needs a local deploy"):
        read(plan)


@pytest.mark.parametrize("sink", ["kafka", '"sns topic"', '""', "to"])
def test_a_sink_that_is_not_built_is_refused_naming_those_that_are(sink: str) -> None:
    with pytest.raises(PlanLanguageError, match="line 3: unknown sink .*sqs, rabbitmq, nats"):
        read(f"service notes-api\nNote: title\nevents Note to {sink}")


TYPED = """
  SERVICE   orders-api
Database MySQL ·API rest,graphql · Auth JWT · Roles clerk,  courier
deploy AWS-ECS: staging>prod · events Order, Parcel to "SQS"
• Customer:name,email email unique,note TEXT optional
Order: total decimal default 0.00, status in (pending,paid, shipped) default pending,
Order keeps delete to admin only; CREATE, update to clerk
Parcel: order->Order REQUIRED on delete CASCADE, weight float optional
"""


def test_a_typed_plan_reads_as_meant_whatever_its_spaces_and_case() -> None:
    # (A trailing comma ends the Order line: items are never empty.)
    assert read(TYPED) == ServiceSpec(
        name="orders-api",
        database=Database.mysql,
        api=[Api.rest, Api.graphql],
        auth=Auth.jwt,
        roles=["clerk", "courier"],
        deploy=DeploySpec(target=DeployTarget.aws_ecs, environments=["staging", "prod"]),
        entities=[
            EntitySpec(
                name="Customer",
                fields=[
                    FieldSpec(name="name"),
                    FieldSpec(name="email", type=FieldType.email, unique=True),
                    FieldSpec(name="note", type=FieldType.text, required=False),
                ],
            ),
            EntitySpec(
                name="Order",
                fields=[
                    FieldSpec(name="total", type=FieldType.decimal, default="0.00"),
                    FieldSpec(
                        name="status", choices=["pending", "paid", "shipped"], default="pending"
                    ),
                ],
                permissions={Action.delete: [], Action.create: ["clerk"], Action.update: ["clerk"]},
            ),
            EntitySpec(
                name="Parcel",
                fields=[FieldSpec(name="weight", type=FieldType.float, required=False)],
                relations=[
                    RelationSpec(
                        name="order", target="Order", required=True, on_delete=OnDelete.cascade
                    )
                ],
            ),
        ],
        events=[EventSpec(entity="Order"), EventSpec(entity="Parcel", sink=Sink.sqs)],
    )


def test_names_that_are_also_words_of_the_language_read_back() -> None:
    spec = ServiceSpec(
        name="and-to",
        api=[Api.graphql, Api.rest],
        auth=Auth.oauth2,
        roles=["and", "to", "only", "keeps", "admin"],
        entities=[
            EntitySpec(
                name="Keeps",
                fields=[
                    FieldSpec(name=word, default=word)
                    for word in ["in", "default", "unique", "optional", "required", "to"]
                ],
                permissions={Action.read: ["admin", "only"], Action.delete: ["to"]},
            ),
            EntitySpec(
                name="Service",
                fields=[FieldSpec(name="events", type=FieldType.int, default="-1")],
                relations=[RelationSpec(name="on", target="Keeps")],
            ),
            EntitySpec(name="Events", permissions={Action.update: []}),
        ],
        events=[EventSpec(entity="Keeps", sink=Sink.nats), EventSpec(entity="Service")],
        deploy=DeploySpec(environments=["no", "environments"]),
    )
    assert read(render(spec)) == spec


def test_the_least_plan_is_a_service_line_and_the_rest_keeps_its_defaults() -> None:
    assert read("service orders-api") == ServiceSpec(name="orders-api")
    assert read("service: orders-api\ndeploy none") == ServiceSpec(
        name="orders-api", deploy=DeploySpec(target=DeployTarget.none)
    )
    spec = read("service orders-api · api none · deploy local: no environments\nItem:")
    assert (spec.api, spec.deploy.environments, spec.entities) == (
        [],
        [],
        [EntitySpec(name="Item")],
    )


def test_what_the_card_shows_reads_too() -> None:
    spec = read("service shop-api\n```\napi REST + GraphQL\nOrder: status in pending/paid\n```")
    assert spec.api == [Api.rest, Api.graphql]
    assert spec.entities[0].fields == [FieldSpec(name="status", choices=["pending", "paid"])]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("service shop-api\nOrder: total decmal", 2, "unknown type 'decmal': str, text, int"),
        (
            "service shop-api\nOrder: customer -> Custmer",
            2,
            "Order.customer links to Custmer, not an entity here",
        ),
        ("service shop-api\n\nOrder: qty int in (a, b)", 3, "qty has choices, so it must be a str"),
        (
            "service shop-api\nOrder: total int, total str",
            2,
            "entity Order has duplicate fields: total",
        ),
        ("databse mysql\nservice shop-api", 1, "unknown keyword 'databse'; did you mean database?"),
        ("service shop-api\nOrder has total", 2, "unknown keyword 'Order'; an entity reads like"),
        ("service shop-api\nOrder: id int", 2, "field name 'id' is reserved"),
        ("service shop-api\norder: total int", 2, "entity name 'order' must be a PascalCase"),
        ("service Shop_Api", 1, "service name 'Shop_Api' must be kebab-case"),
        ("service shop-api · roles Clerk", 1, "role 'Clerk' must be a lowercase word"),
        ("service shop-api\nOrder: x\nOrder: y", 3, "Order is listed twice (first on line 2)"),
        ("service shop-api · database oracle", 1, "unknown database 'oracle'"),
        ("service shop-api · api rest, rest", 1, "rest is listed twice"),
        ("service shop-api\nservice other-api", 2, "service is said twice (first on line 1)"),
        ("service shop-api\nOrder: x str default", 2, "x: default needs a value after it"),
        ('service shop-api\nOrder: x str default "a\\q"', 2, "bad quoted text"),
        ("service shop-api\nOrder: x bool default maybe", 2, "default 'maybe' for x is not a bool"),
        ("service shop-api\nOrder: x int unique unique", 2, "x: unique is said twice"),
        ("service shop-api\nOrder: c -> Order on delete never", 2, "unknown on delete 'never'"),
        (
            "service shop-api\nOrder: x\nOrder keeps delete to admin",
            3,
            "who may delete Order needs sign-in",
        ),
        (
            "service shop-api · auth jwt\nOrder: x\nOrder keeps read to clerk",
            3,
            "Order read names role 'clerk'",
        ),
        (
            "service shop-api · auth jwt\nOrder keeps read to admin",
            2,
            "rules for Order, which is not",
        ),
        ("service shop-api · auth jwt\nO: x\nO keeps drop to admin", 3, "unknown action 'drop'"),
        ("service shop-api\nevents Order", 2, "events for Order: not an entity here"),
        ("service shop-api\ndeploy heroku: prod", 2, "unknown deploy target 'heroku'"),
        ("service shop-api\ndeploy local: prod > prod", 2, "environments are listed more than"),
        ("database mysql", 1, "a plan names its service"),
    ],
)
def test_a_wrong_plan_is_refused_with_its_line_and_a_reason(text, line, reason) -> None:
    with pytest.raises(PlanLanguageError) as refused:
        read(text)
    assert (refused.value.line, refused.value.reason[: len(reason)]) == (line, reason)
    assert str(refused.value) == f"line {line}: {refused.value.reason}"
    assert "\n" not in str(refused.value)
