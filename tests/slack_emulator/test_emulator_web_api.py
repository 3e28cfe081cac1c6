"""The emulator's Web API, spoken to by slack_sdk's own clients (the real peers)."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator.server import EmulatorConfig, EmulatorServer
from slack_emulator.workspace import DEFAULT_SEED

BOT_TOKEN = DEFAULT_SEED["tokens"]["bot"]


async def http_get(url: str) -> httpx.Response:
    """Async: the emulator runs in this test's event loop, so a blocking call would hang."""
    async with httpx.AsyncClient() as web:
        return await web.get(url)


async def http_post(url: str, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient() as web:
        return await web.post(url, **kwargs)


@pytest.fixture()
async def emulator():
    server = await EmulatorServer(EmulatorConfig(port=0, rate_limits=False)).start()
    yield server
    await server.stop()


@pytest.fixture()
def slack(emulator) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=f"{emulator.base_url}/api/")


async def test_auth_test_names_the_bot_and_rejects_a_wrong_token(slack, emulator):
    me = await slack.auth_test()
    assert (me["user_id"], me["team_id"], me["bot_id"]) == (
        "U0SHIPMATE",
        "T0SHIPMATE",
        "B0SHIPMATE",
    )
    with pytest.raises(SlackApiError) as err:
        await AsyncWebClient(token="xoxb-wrong", base_url=f"{emulator.base_url}/api/").auth_test()
    assert err.value.response["error"] == "invalid_auth"


async def test_post_update_delete_and_threads(slack):
    posted = await slack.chat_postMessage(channel="C0GENERAL", text="hello")
    assert posted["ts"].count(".") == 1 and len(posted["ts"].split(".")[1]) == 6
    reply = await slack.chat_postMessage(
        channel="C0GENERAL", text="in thread", thread_ts=posted["ts"]
    )
    second = await slack.chat_postMessage(channel="C0GENERAL", text="later")
    assert posted["ts"] < reply["ts"] < second["ts"]

    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*card*"}}]
    updated = await slack.chat_update(
        channel="C0GENERAL", ts=posted["ts"], text="card", blocks=blocks
    )
    assert updated["message"]["blocks"] == blocks

    history = await slack.conversations_history(channel="C0GENERAL")
    assert [m["text"] for m in history["messages"]] == ["later", "card"]
    parent = history["messages"][1]
    assert parent["reply_count"] == 1 and parent["latest_reply"] == reply["ts"]
    replies = await slack.conversations_replies(channel="C0GENERAL", ts=posted["ts"])
    assert [m["text"] for m in replies["messages"]] == ["card", "in thread"]

    await slack.chat_delete(channel="C0GENERAL", ts=second["ts"])
    with pytest.raises(SlackApiError) as err:
        await slack.chat_update(channel="C0GENERAL", ts=second["ts"], text="gone")
    assert err.value.response["error"] == "message_not_found"


async def test_errors_have_slacks_shapes(slack, emulator):
    cases = [
        (slack.chat_postMessage(channel="C0NOPE", text="x"), "channel_not_found"),
        (slack.chat_postMessage(channel="C0RANDOM", text="x"), "not_in_channel"),
        (slack.chat_postMessage(channel="C0GENERAL"), "no_text"),
        (slack.chat_postMessage(channel="C0GENERAL", text="x" * 40_001), "msg_too_long"),
        (
            slack.chat_postMessage(
                channel="C0GENERAL", text="x", blocks=[{"type": "divider"}] * 51
            ),
            "invalid_blocks",
        ),
        (slack.users_info(user="U0NOBODY"), "user_not_found"),
        (slack.usergroups_users_list(usergroup="S0NOPE"), "no_such_subteam"),
        (slack.views_open(trigger_id="123.abc", view={"type": "modal"}), "invalid_trigger_id"),
    ]
    for call, code in cases:
        with pytest.raises(SlackApiError) as err:
            await call
        assert err.value.response["error"] == code
    unknown = await http_post(
        f"{emulator.base_url}/api/chat.teleport", headers={"Authorization": f"Bearer {BOT_TOKEN}"}
    )
    assert unknown.json() == {"ok": False, "error": "unknown_method"}
    missing = await http_post(f"{emulator.base_url}/api/auth.test")
    assert missing.json() == {"ok": False, "error": "not_authed"}


async def test_ephemeral_permalink_and_reactions(slack, emulator):
    posted = await slack.chat_postMessage(channel="C0GENERAL", text="react to me")
    await slack.chat_postEphemeral(channel="C0GENERAL", user="U0CAROL", text="only carol")
    seen = (await http_get(f"{emulator.base_url}/_emulator/ephemeral/U0CAROL")).json()
    assert [m["text"] for m in seen["messages"]] == ["only carol"]
    link = await slack.chat_getPermalink(channel="C0GENERAL", message_ts=posted["ts"])
    assert link["permalink"].endswith(f"/archives/C0GENERAL/p{posted['ts'].replace('.', '')}")
    await slack.reactions_add(channel="C0GENERAL", timestamp=posted["ts"], name="rocket")
    with pytest.raises(SlackApiError) as err:
        await slack.reactions_add(channel="C0GENERAL", timestamp=posted["ts"], name="rocket")
    assert err.value.response["error"] == "already_reacted"
    messages = (await http_get(f"{emulator.base_url}/_emulator/channels/C0GENERAL/messages")).json()
    assert messages["messages"][0]["reactions"] == [
        {"name": "rocket", "users": ["U0SHIPMATE"], "count": 1}
    ]
    await slack.reactions_remove(channel="C0GENERAL", timestamp=posted["ts"], name="rocket")
    with pytest.raises(SlackApiError):
        await slack.reactions_remove(channel="C0GENERAL", timestamp=posted["ts"], name="rocket")


async def test_people_channels_and_groups_from_the_seed(slack):
    users = await slack.users_list()
    assert {u["name"] for u in users["members"]} == {"alice", "bob", "carol", "shipmate"}
    bob = await slack.users_info(user="U0BOB")
    assert bob["user"]["profile"]["title"] == "approver"
    channels = await slack.conversations_list()
    assert {c["name"] for c in channels["channels"]} >= {"general", "deploys"}
    info = await slack.conversations_info(channel="C0RANDOM")
    assert info["channel"]["is_member"] is False
    # Shipmate's manifest has no channels:join: it is invited, it never joins by itself
    with pytest.raises(SlackApiError) as refused:
        await slack.conversations_join(channel="C0RANDOM")
    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "channels:join"
    groups = await slack.usergroups_list(include_users=True)
    assert groups["usergroups"][0]["handle"] == "approvers"
    assert groups["usergroups"][0]["users"] == ["U0BOB"]
    members = await slack.usergroups_users_list(usergroup="S0APPROVERS")
    assert members["users"] == ["U0BOB"]


async def test_home_tab_is_published_per_person(slack, emulator):
    view = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    published = await slack.views_publish(user_id="U0ALICE", view=view)
    assert published["view"]["type"] == "home"
    home = (await http_get(f"{emulator.base_url}/_emulator/home/U0ALICE")).json()
    assert home["view"]["blocks"] == view["blocks"]


async def test_apps_connections_open_needs_the_app_token(slack, emulator):
    with pytest.raises(SlackApiError) as err:
        await slack.apps_connections_open(app_token=BOT_TOKEN)
    assert err.value.response["error"] == "invalid_auth"
    opened = await slack.apps_connections_open(app_token=DEFAULT_SEED["tokens"]["app"])
    assert opened["url"].startswith(emulator.base_url.replace("http", "ws") + "/link/")


async def test_rate_limits_answer_429_with_retry_after_and_the_sdk_waits():
    server = await EmulatorServer(EmulatorConfig(port=0, rate_limits=True)).start()
    try:
        raw = AsyncWebClient(token=BOT_TOKEN, base_url=f"{server.base_url}/api/")
        raw.retry_handlers = []  # see the 429 itself
        with pytest.raises(SlackApiError) as err:
            for n in range(10):
                await raw.chat_postMessage(channel="C0DEPLOYS", text=f"burst {n}")
        assert err.value.response.status_code == 429
        assert int(err.value.response.headers["Retry-After"]) >= 1

        patient = AsyncWebClient(
            token=BOT_TOKEN,
            base_url=f"{server.base_url}/api/",
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=5)],
        )
        for n in range(3):
            assert (await patient.chat_postMessage(channel="C0DEPLOYS", text=f"calm {n}"))["ok"]
        stats = (await http_get(f"{server.base_url}/_emulator/deliveries")).json()["rate_limits"]
        assert stats["limited"]["chat.postMessage"] >= 1
        assert stats["allowed"]["chat.postMessage"] == 8  # 5 of the burst, then 3 calm ones
    finally:
        await server.stop()


async def test_control_api_refuses_bad_input_with_a_clear_error(emulator):
    base = emulator.base_url
    async with httpx.AsyncClient() as web:
        cases = [
            (
                await web.post(f"{base}/_emulator/messages", json={"user": "U0ALICE"}),
                400,
                "missing channel, text",
            ),
            (
                await web.post(f"{base}/_emulator/messages", content=b"not json"),
                400,
                "body must be JSON",
            ),
            (
                await web.post(
                    f"{base}/_emulator/messages",
                    json={"user": "U0NOBODY", "channel": "C0GENERAL", "text": "hi"},
                ),
                404,
                "user_not_found",
            ),
            (
                await web.post(
                    f"{base}/_emulator/messages",
                    json={
                        "user": "U0ALICE",
                        "channel": "C0GENERAL",
                        "text": "hi",
                        "thread_ts": "1.000000",
                    },
                ),
                404,
                "message_not_found",
            ),
            (
                await web.post(
                    f"{base}/_emulator/commands",
                    json={"user": "U0ALICE", "channel": "C0GENERAL", "command": "/deploy"},
                ),
                404,
                "/deploy is not a command of this app",
            ),
        ]
        for response, status, error in cases:
            assert response.status_code == status
            assert response.json() == {"ok": False, "error": error}
        posted = (
            await web.post(
                f"{base}/_emulator/messages",
                json={"user": "U0ALICE", "channel": "C0GENERAL", "text": "no buttons here"},
            )
        ).json()
        click = await web.post(
            f"{base}/_emulator/actions",
            json={
                "user": "U0BOB",
                "channel": "C0GENERAL",
                "message_ts": posted["ts"],
                "action_id": "approve",
            },
        )
        assert click.status_code == 404
        assert click.json()["error"] == "that message has no button with action_id approve"


async def test_a_broadcast_reply_is_in_the_thread_and_in_the_channel(slack, emulator):
    parent = await slack.chat_postMessage(channel="C0DEPLOYS", text="deploying todo-api")
    quiet = await slack.chat_postMessage(channel="C0DEPLOYS", text="step 1", thread_ts=parent["ts"])
    loud = await slack.chat_postMessage(
        channel="C0DEPLOYS", text="todo-api is live", thread_ts=parent["ts"], reply_broadcast=True
    )
    assert loud["message"]["subtype"] == "thread_broadcast"
    assert loud["message"]["root"]["text"] == "deploying todo-api"
    assert loud["message"]["root"]["ts"] == parent["ts"]
    history = await slack.conversations_history(channel="C0DEPLOYS")
    assert [m["text"] for m in history["messages"]] == ["todo-api is live", "deploying todo-api"]
    replies = await slack.conversations_replies(channel="C0DEPLOYS", ts=parent["ts"])
    assert [m["ts"] for m in replies["messages"]] == [parent["ts"], quiet["ts"], loud["ts"]]

    seen = (await http_get(f"{emulator.base_url}/_emulator/channels/C0DEPLOYS/messages")).json()
    top = [(m["text"], m.get("broadcast", False)) for m in seen["messages"]]
    assert top == [("deploying todo-api", False), ("todo-api is live", True)]
    assert [r["text"] for r in seen["messages"][0]["replies"]] == ["step 1", "todo-api is live"]


async def test_conversations_open_gives_the_dm_with_the_bot(slack, emulator):
    opened = await slack.conversations_open(users="U0ALICE")
    assert opened["channel"]["id"] == "D0ALICE"
    await slack.chat_postMessage(channel=opened["channel"]["id"], text="psst")
    await slack.chat_postMessage(channel="U0ALICE", text="also to you")
    seen = (await http_get(f"{emulator.base_url}/_emulator/channels/D0ALICE/messages")).json()
    assert [m["text"] for m in seen["messages"]] == ["psst", "also to you"]
    with pytest.raises(SlackApiError) as err:
        await slack.conversations_open(users="U0NOBODY")
    assert err.value.response["error"] == "user_not_found"


async def test_a_method_or_event_the_manifest_does_not_grant_is_refused_as_slack_does(tmp_path):
    """Scopes and events come from deploy/slack-manifest.yml; a narrower manifest shows
    Slack's refusal: missing_scope with what was needed and what the token has, and no
    event the app did not subscribe to."""
    manifest = tmp_path / "manifest.yml"
    manifest.write_text(
        "oauth_config:\n  scopes:\n    bot: [app_mentions:read, channels:history, im:write]\n"
        "settings:\n  event_subscriptions:\n    bot_events: [app_mention]\n"
    )
    config = EmulatorConfig(port=0, rate_limits=False, manifest=manifest)
    server = await EmulatorServer(config).start()
    try:
        slack = AsyncWebClient(token=BOT_TOKEN, base_url=f"{server.base_url}/api/")
        with pytest.raises(SlackApiError) as refused:
            await slack.chat_postMessage(channel="C0GENERAL", text="hi")
        assert refused.value.response.data == {
            "ok": False,
            "error": "missing_scope",
            "needed": "chat:write",
            "provided": "app_mentions:read,channels:history,im:write",
        }
        assert (await slack.conversations_history(channel="C0GENERAL"))["ok"]
        dm = (await slack.conversations_open(users="U0ALICE"))["channel"]["id"]
        with pytest.raises(SlackApiError) as refused:
            await slack.conversations_history(channel=dm)  # a DM's history is im:history
        assert refused.value.response["needed"] == "im:history"

        said = {"user": "U0ALICE", "channel": "C0GENERAL", "text": "<@U0SHIPMATE> hi"}
        await http_post(f"{server.base_url}/_emulator/messages", json=said)
        found = await http_get(f"{server.base_url}/_emulator/deliveries")
        deliveries = found.json()["deliveries"]
        status = {d["event_type"]: d["status"] for d in deliveries}
        assert status["message"] == "not subscribed"  # message.channels is not in the list
        assert status["app_mention"] != "not subscribed"
    finally:
        await server.stop()


def test_shipmate_calls_only_methods_its_manifest_grants():
    """Every Web API method the bot and the activities call, read from the code, is
    granted by deploy/slack-manifest.yml (a new one needs its scope there first)."""
    import re
    from pathlib import Path

    from slack_emulator.grants import BY_CONVERSATION, MANIFEST, METHOD_SCOPES, Grants

    root = Path(__file__).resolve().parents[2]
    families = "chat|conversations|users|usergroups|reactions|views|files"
    CALL = re.compile(rf"(?:client|slack|at_once)\.({families})_(\w+)\(")  # Slack clients
    called = set()
    for folder in ("bot", "activities", "shipmate", "cli", "slack_views"):
        for source in (root / folder).rglob("*.py"):
            called |= set(CALL.findall(source.read_text()))
    methods = {f"{family}.{name.replace('_', '.')}" for family, name in called}
    assert methods, "no Web API call found: the pattern is wrong"
    known = METHOD_SCOPES.keys() | BY_CONVERSATION.keys()
    assert methods <= known, f"scopes unknown for {sorted(methods - known)}"
    grants = Grants.from_manifest(MANIFEST)
    for method in sorted(methods):
        for kind in ({}, {"is_im": True}):
            grants.check_method(method, kind)


async def test_reset_forgets_messages_ephemerals_and_deliveries(slack, emulator):
    base = emulator.base_url
    await slack.chat_postMessage(channel="C0GENERAL", text="before the reset")
    await slack.chat_postEphemeral(channel="C0GENERAL", user="U0ALICE", text="psst")
    dm = (await slack.conversations_open(users="U0ALICE"))["channel"]["id"]
    said = {"user": "U0ALICE", "channel": "C0GENERAL", "text": "<@U0SHIPMATE> hi"}
    await http_post(f"{base}/_emulator/messages", json=said)

    assert (await http_post(f"{base}/_emulator/reset")).json() == {"ok": True}

    history = await slack.conversations_history(channel="C0GENERAL")
    assert history["messages"] == []
    assert (await http_get(f"{base}/_emulator/ephemeral/U0ALICE")).json()["messages"] == []
    assert (await http_get(f"{base}/_emulator/deliveries")).json()["deliveries"] == []
    await slack.chat_postMessage(channel=dm, text="a fresh start")
    assert [m["text"] for m in (await slack.conversations_history(channel=dm))["messages"]] == [
        "a fresh start"
    ]
