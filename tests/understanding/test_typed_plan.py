"""A plan typed in the plan language is built exactly as written."""

from __future__ import annotations

from shipmate.settings import Settings
from slack_views.plan import plan_text
from testkit.request_table import CASES
from understanding import understand
from understanding.plan_language import render

OFFLINE = Settings(openai_api_key=None)


def test_every_plan_the_table_reads_is_read_back_exactly_when_typed():
    specs = [s for text, _ in CASES if (s := understand(OFFLINE, [text]).spec) is not None]
    assert len(specs) > 100
    for spec in specs:
        typed = understand(OFFLINE, [render(spec)])
        assert typed.spec == spec.model_copy(update={"description": ""}), render(spec)
        assert typed.notes == ["Read as a plan, exactly as written."]


def test_a_plan_as_slack_sends_it_reads_too():
    plan = "service orders-api\ndeploy local: staging &gt; prod\nOrder: total decimal"
    spec = understand(OFFLINE, [plan]).spec
    assert spec.deploy.environments == ["staging", "prod"]
    assert [(f.name, f.type.value) for f in spec.entities[0].fields] == [("total", "decimal")]


def test_free_text_that_only_starts_like_a_plan_is_read_as_free_text():
    said = "Service: fleet-tracker\nEntities:\n- Vehicle: plate (unique), make\ndb: postgres"
    plan = understand(OFFLINE, [said])
    assert plan.spec.name == "fleet-tracker"
    assert [e.name for e in plan.spec.entities] == ["Vehicle"]
    assert plan.notes != ["Read as a plan, exactly as written."]


def test_a_plan_typed_in_a_services_thread_is_its_next_version_with_the_diff():
    base = understand(OFFLINE, ["orders api: orders have customer and total (decimal)"]).spec
    changed = render(base).replace("total decimal", "total decimal, note text optional")
    plan = understand(OFFLINE, [changed], base)
    assert plan.spec.version == base.version + 1
    assert [f.name for f in plan.spec.entities[0].fields] == ["customer", "total", "note"]
    assert plan.diff == ["+ Order.note (text, optional)"]


def test_a_plan_for_another_service_is_no_change_of_this_one():
    base = understand(OFFLINE, ["orders api: orders have customer and total (decimal)"]).spec
    other = render(base).replace("service orders-api", "service invoices-api")
    plan = understand(OFFLINE, [other], base)
    assert plan.notes != ["Read as a plan, exactly as written."]


def test_the_on_it_message_shows_the_plan_to_send_back():
    spec = understand(OFFLINE, ["notes api: notes have title & body (text)"]).spec
    shown = plan_text(spec)
    assert "```service notes-api\n" in shown
    assert "Note: title str, body text" in shown.replace("&amp;", "&")
