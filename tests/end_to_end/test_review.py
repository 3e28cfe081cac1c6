"""Reviewer mode with real parts: the Slack emulator, the bot, Temporal, the worker's real
review stages (the analyzer in the Docker sandbox), a local git host.

What a person checks: the card's counts and top findings, the report in the thread
(review.md) naming each seeded bug at its file and line, refusals in plain words, and
that a review never changes anything until someone allowed asks for its fixes.
"""

from __future__ import annotations

import base64
import difflib
import re
import uuid
from contextlib import asynccontextmanager

import httpx
import pytest
from pydantic import SecretStr

from activities.scaffold.generator import write_service
from cli.worker import build_workers
from slack_emulator.server import EmulatorConfig, EmulatorServer
from testkit.chat import TOKENS, Chat, actions, letters, start_bot
from testkit.git_server import GitServer
from testkit.openai_server import OpenAIServer
from testkit.seeded_bugs import SEEDED, SEEDED_DIR
from testkit.waiting import eventually
from understanding import parse_request

REVIEWED = "reviewed"
SLOW = 420  # a cold analyzer image is built on the first review of a session


@asynccontextmanager
async def slack_and_worker(client, settings, worker_only: dict | None = None, **both):
    """The emulator, a bot and a worker with the real stages on a queue of their own;
    `worker_only`: settings the worker has and the bot has not (an OpenAI key: the bot
    then still reads requests offline)."""
    emulator = await EmulatorServer(EmulatorConfig(port=0)).start()
    bot_settings = settings.model_copy(
        update={
            "task_queue": f"review-{uuid.uuid4().hex[:6]}",
            "slack_bot_token": SecretStr(TOKENS["bot"]),
            "slack_app_token": SecretStr(TOKENS["app"]),
            "slack_api_url": f"{emulator.base_url}/api/",
            **both,
        }
    )
    async with build_workers(client, bot_settings.model_copy(update=worker_only or {})):
        handler = await start_bot(bot_settings, emulator)
        try:
            yield Chat(emulator)
        finally:
            await handler.close_async()
            await emulator.stop()


@pytest.fixture()
async def review_stack(client, settings, docker_ready, tmp_path):
    with GitServer(tmp_path / "git") as git:
        async with slack_and_worker(client, settings, review_git_hosts=[git.host]) as chat:
            yield chat, git, settings


def seeded_files() -> dict[str, bytes]:
    return {
        p.relative_to(SEEDED_DIR).as_posix(): p.read_bytes()
        for p in SEEDED_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


async def shared_files(chat: Chat, ts: str) -> dict[str, bytes]:
    """The files Shipmate shared in the thread, by name, downloaded as a person would."""
    replies = await chat.thread(ts)
    files = [f for r in replies if r.get("user") == "U0SHIPMATE" for f in r.get("files", [])]
    got = {}
    async with httpx.AsyncClient() as web:
        for shared in files:
            answer = await web.get(
                shared["url_private_download"],
                headers={"Authorization": f"Bearer {TOKENS['bot']}"},
            )
            got[shared["name"]] = answer.content
    return got


async def test_a_repository_review_finds_the_seeded_bugs_where_they_are(review_stack):
    chat, git, _ = review_stack
    repo = git.add_repo("shop", seeded_files())
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> review <{repo.url}> please")
    card = await chat.card(ts, REVIEWED, timeout=SLOW)
    assert "high" in card["text"]  # the counts are in the card's words
    assert "Apply" not in str(actions(card))  # outside code: the fixes are a patch file
    files = await eventually(lambda: shared_files(chat, ts), what="the review's files")
    assert {"review.md", "review.sarif"} <= set(files)
    report = files["review.md"].decode()
    found = [(family, f"{path}:{line}") for family, path, line in SEEDED]
    missing = [where for family, where in found if where not in report]
    assert len(missing) <= 1, f"not in review.md: {missing}"
    done = await chat.wait_for(ts, lambda r: "the review of" in r["text"])
    assert "<@U0ALICE>" in done["text"]
    secret = re.search(r'SECRET_KEY = "([^"]+)"', (SEEDED_DIR / "app/security.py").read_text())
    said = str(await chat.thread(ts)) + "".join(f.decode() for f in files.values())
    assert secret and secret.group(1) not in said  # found, and never repeated


async def test_pasted_code_is_reviewed_with_its_lines(review_stack):
    chat, _, _ = review_stack
    code = (
        "import sqlite3\n\n"
        "def find(db, name):\n"
        "    return db.execute(f\"SELECT * FROM users WHERE name = '{name}'\").fetchall()\n"
    )
    ts = await chat.say("U0BOB", f"<@U0SHIPMATE> can you review this?\n```python\n{code}```")
    card = await chat.card(ts, REVIEWED, timeout=SLOW)
    assert "snippet.py:4" in str(card["blocks"])

    js = "```js\nconst q = `SELECT * FROM users WHERE name = '${name}'`;\n```"
    ts = await chat.say("U0BOB", f"<@U0SHIPMATE> anything wrong here? {js}")
    card = await chat.card(ts, REVIEWED, timeout=SLOW)
    assert "Python only: none of these files is Python" in str(card["blocks"])  # not "clean"


async def test_an_attached_file_is_reviewed_and_a_binary_one_refused(review_stack):
    chat, _, _ = review_stack
    body = {
        "user": "U0ALICE",
        "channel": "C0GENERAL",
        "text": "<@U0SHIPMATE> look over this file",
        "files": [
            {"name": "blob.bin", "content_base64": base64.b64encode(b"\0\1\2" * 50).decode()}
        ],
    }
    async with httpx.AsyncClient() as web:
        sent = (await web.post(f"{chat.base}/_emulator/messages", json=body)).json()
    assert sent["ok"], sent
    card = await chat.card(sent["ts"], "review failed", timeout=SLOW)
    assert "binary file" in str(card["blocks"])


async def test_refusals_name_their_reason_and_start_nothing(review_stack):
    chat, _, _ = review_stack
    ts = await chat.say(
        "U0ALICE", "<@U0SHIPMATE> review <https://git.example.com/acme/billing.git>"
    )
    card = await chat.card(ts, "review failed", timeout=SLOW)
    assert "SHIPMATE_REVIEW_GIT_HOSTS" in str(card["blocks"])
    assert "git.example.com" in str(card["blocks"])

    ts = await chat.say("U0ALICE", "<@U0SHIPMATE> review nosuchthing-api")
    answer = await chat.wait_for(ts, lambda r: r["user"] == "U0SHIPMATE")
    assert "I know no service called `nosuchthing-api`" in answer["text"]


# A Shipmate service, reviewed with the model (the local OpenAI stand-in), its fix
# applied by a person allowed to, and reviewed again.

DRAINING = 'DRAINING = "/tmp/draining"'
FIXED = 'DRAINING = os.environ.get("DRAIN_MARKER", "/tmp/draining")'


def model_answer(body: dict) -> dict:
    """The model proposes one fix while the code still has the line it fixes."""
    sent = body["messages"][-1]["content"]
    if DRAINING not in sent:
        return {"findings": [], "summary": "Nothing more."}
    block = sent.split("=== app/main.py")[1].split("\n=== ")[0].splitlines()[1:]
    shown = [row.split("|", 1)[1][1:] for row in block if row[:5].strip().isdigit()]
    number = next(n for n, row in enumerate(shown, 1) if row.startswith(DRAINING))
    window = shown[number - 4 : number + 3]  # the line with three lines around it, as sent
    fixed = [row.replace(DRAINING, FIXED) for row in window]
    patch = "".join(
        difflib.unified_diff(
            [row + "\n" for row in window],
            [row + "\n" for row in fixed],
            "a/app/main.py",
            "b/app/main.py",
        )
    ).replace("@@ -1,7 +1,7 @@", f"@@ -{number - 3},7 +{number - 3},7 @@")
    line = number
    finding = {
        "file": "app/main.py",
        "line": line,
        "rule": "fixed-temp-path",
        "severity": "low",
        "message": "The draining marker's path is fixed in the code",
        "why": "Two processes in one container would share it; let the deploy choose.",
        "patch": patch,
    }
    invented = finding | {"file": "app/ghost.py", "rule": "ghost", "patch": ""}
    wrong = finding | {"rule": "wrong-patch", "patch": patch.replace("/tmp/draining", "/nowhere")}
    return {"findings": [finding, invented, wrong], "summary": "One small thing."}


@pytest.fixture()
async def model_stack(client, settings, docker_ready):
    with OpenAIServer() as model:
        model.answer = model_answer
        key = {"openai_api_key": SecretStr("sk-test"), "openai_base_url": model.base_url}
        async with slack_and_worker(client, settings, worker_only=key) as chat:
            yield chat, model


async def test_a_service_review_applies_its_fixes_through_a_change(model_stack):
    chat, model = model_stack
    name = f"memo{letters()}"
    asked = await chat.say(
        "U0ALICE", f"<@U0SHIPMATE> build a {name} api: {name}s have title and body, don't deploy it"
    )
    await chat.card(asked, "delivered", timeout=SLOW)

    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> review {name}-api")
    card = await chat.card(ts, REVIEWED, timeout=SLOW)
    shown = str(card["blocks"])
    assert ":red_circle:" not in shown  # no high finding in what Shipmate generated
    assert "model/fixed-temp-path" in shown
    assert "model/ghost" not in shown and "model/wrong-patch" not in shown  # checked, dropped
    assert "1 kept, 2 dropped" in shown
    assert "review_apply_fixes" in actions(card)
    assert model.requests and "app/main.py" in model.requests[-1]["messages"][-1]["content"]

    await chat.click("U0CAROL", card["ts"], "review_apply_fixes")  # not a developer
    refusals = await chat.wait_for_ephemerals("U0CAROL")
    assert any("may apply its fixes" in text for text in refusals)

    await chat.click("U0ALICE", card["ts"], "review_apply_fixes")
    change = await chat.card(ts, "delivered", timeout=SLOW)
    assert f"{name}-api" in change["text"] and "v2" in str(change["blocks"])

    again = await chat.say("U0ALICE", f"<@U0SHIPMATE> review {name}-api")
    second = await chat.card(again, REVIEWED, timeout=SLOW)
    assert "model/fixed-temp-path" not in str(second["blocks"])  # the fix is in v2

    first = await chat.say("U0ALICE", f"<@U0SHIPMATE> review {name}-api v1")
    old = await chat.card(first, REVIEWED, timeout=SLOW)
    assert "model/fixed-temp-path" in str(old["blocks"])  # any version can be read
    await chat.click("U0ALICE", old["ts"], "review_apply_fixes")  # v1's fixes, v2 is out
    refused = await chat.wait_for(first, lambda r: "were made for v1" in str(r.get("blocks")))
    assert "which is at v2 now: ask for a review of it again" in str(refused["blocks"])


async def test_an_architecture_question_gets_boundaries_and_pictures(review_stack, tmp_path):
    chat, git, _ = review_stack
    shop = parse_request(
        "shop api: customers have name and email (unique); orders have customer, total "
        "(decimal) and status; products have sku (unique) and price (decimal); order lines "
        "have order, product and quantity (int); payments have order and amount (decimal); "
        "warehouses have city; stock levels have product, warehouse and quantity (int)"
    ).spec
    write_service(shop, tmp_path / "shop")
    files = {
        p.relative_to(tmp_path / "shop").as_posix(): p.read_bytes()
        for p in (tmp_path / "shop").rglob("*")
        if p.is_file()
    }
    repo = git.add_repo("shop-monolith", files)
    ts = await chat.say("U0ALICE", f"<@U0SHIPMATE> how should we split <{repo.url}> into services?")
    card = await chat.card(ts, REVIEWED, timeout=SLOW)
    shown = str(card["blocks"])
    assert "Proposed services: order-service (customers, order_lines, orders, payments)" in shown
    assert "product-service (products, stock_levels, warehouses)" in shown
    uploaded = await eventually(lambda: shared_files(chat, ts), what="the review's files")
    assert uploaded["tables.png"].startswith(b"\x89PNG")
    assert uploaded["modules.png"].startswith(b"\x89PNG")
    report = uploaded["review.md"].decode()
    assert "`order_lines.product_id` → `products`" in report  # a lookup and events between
