"""Environments are configured, not typed (#29 item 4): a request naming `qa`, `prd` or
anything else SHIPMATE_ENVIRONMENTS does not list made a new environment with none of
production's rules. Now it is refused, in the bot, on the command line and in the
worker, with the names that are configured; production is a flag of the configuration."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.stages import DeliveryActivities
from shipmate import delivery_client, status_report
from shipmate.environments import is_production, unknown_environments
from shipmate.people import Directory
from shipmate.policies import approval_policies
from shipmate.settings import EnvironmentSetting, Settings
from slack_views.card import gate_buttons
from testkit.chat import letters
from tests.workflows.test_workflows import gate_open, until
from understanding import parse_request
from workflows.models import Operation
from workflows.spec import DeployTarget
from workflows.stage_models import DeployInput

NAMED = "`qa` is not an environment here: I deploy to `staging` and `prod`"


def plain(tmp_path, **changes) -> Settings:
    return Settings(_env_file=None, state_dir=tmp_path, **changes)


def test_by_default_staging_and_prod_and_only_prod_is_production(tmp_path):
    settings = plain(tmp_path)
    assert [e.name for e in settings.environments] == ["staging", "prod"]
    assert is_production(settings, "prod") and not is_production(settings, "staging")
    assert unknown_environments(settings, ["staging", "prod"]) is None
    assert unknown_environments(settings, ["staging", "qa"]).startswith(NAMED)
    assert "Which did you mean?" in unknown_environments(settings, ["qa"])


def test_production_is_what_the_configuration_says_not_the_word(tmp_path):
    settings = plain(
        tmp_path,
        environments=[EnvironmentSetting(name="eu", production=True), {"name": "prod"}],
    )
    assert is_production(settings, "eu") and not is_production(settings, "prod")


async def test_the_requester_may_not_approve_a_configured_production_of_any_name(tmp_path):
    settings = plain(tmp_path, environments=[{"name": "eu", "production": True}, {"name": "qa"}])
    found = await approval_policies(settings, ["eu", "qa"], Directory(settings))
    assert not found["eu"].requester_may_approve
    assert found["qa"].requester_may_approve


@pytest.mark.parametrize("name", ["prod-eu", "Prod", "prod\n", "", "e" * 21])
def test_a_configured_name_is_one_short_word(tmp_path, name):
    with pytest.raises(ValidationError):
        plain(tmp_path, environments=[{"name": name}])


async def test_the_command_line_is_refused_before_anything_starts(tmp_path):
    settings = plain(tmp_path)
    spec = parse_request("build a notes api and deploy it to qa").spec
    assert spec.deploy.environments == ["qa"]
    # no Temporal client is needed: the refusal comes first
    with pytest.raises(delivery_client.DecisionRefused, match=NAMED):
        await delivery_client.request_change(None, settings, "…", spec, "U0ALICE")
    with pytest.raises(delivery_client.DecisionRefused, match=NAMED):
        await delivery_client.request_undo(
            None, settings, Operation.roll_back, "notes-api", "qa", "U0ALICE"
        )


def test_the_worker_deploys_only_to_its_configured_environments(tmp_path):
    request = DeployInput(
        service="notes-api",
        environment="qa",
        image="notes-api:v1",
        target=DeployTarget.aws_ecs,
        requester="U0ALICE",
        approved_by=["U0BOB"],
    )
    with pytest.raises(ApplicationError) as refused:
        ActivityEnvironment().run(DeliveryActivities(plain(tmp_path)).deploy_service, request)
    assert refused.value.type == "NotApproved"
    assert NAMED in refused.value.message


async def test_in_slack_the_person_is_told_privately_and_nothing_starts(chat, bot, client):
    name = f"tally{letters()}"
    asked = await chat.say("U0ALICE", f"<@U0SHIPMATE> build a {name} api and deploy it to qa")
    await chat.caught_up()
    told = "\n".join(await chat.ephemeral("U0ALICE"))
    assert NAMED in told
    assert [r for r in await chat.thread(asked) if r["text"].startswith("On it")] == []
    assert (await status_report.gather(client, f"{name}-api")).services == []


async def test_the_approve_button_confirms_what_the_worker_calls_production(client, fake):
    """`eu` configured as production asks "Deploy to production?" at its Approve button;
    a `prod` configured as not production asks nothing: the settings say, not the word."""
    script, settings = fake
    configured = script.settings = settings.model_copy(
        update={
            "environments": [
                EnvironmentSetting(name="eu", production=True),
                EnvironmentSetting(name="prod"),
            ]
        }
    )
    spec = parse_request("build a todo api").spec
    spec = spec.model_copy(update={"name": f"todo{letters()}-api"})
    spec.deploy.environments = ["eu", "prod"]
    ticket = await delivery_client.request_change(client, configured, "…", spec, "U0ALICE")
    handle = client.get_workflow_handle(ticket.delivery_id)
    status = await until(handle, gate_open("eu"))
    assert [(g.environment, g.production) for g in status.gates] == [("eu", True), ("prod", False)]
    (approve, *_) = gate_buttons(status, "eu")
    assert approve.confirm.to_dict()["title"]["text"] == "Deploy to production?"
    assert gate_buttons(status, "prod")[0].confirm is None
    await handle.terminate("seen what was needed")
