"""Real parts for the tests: a Temporal dev server, a registry, moto, the Docker engine.

Each is started here on free ports (or must already run, like dockerd), and a test
that needs a missing part fails with the fix, never skips.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr

from activities.stages import DeliveryActivities
from cli import devstack, doctor
from shipmate.settings import Settings
from shipmate.temporal import connect
from slack_emulator.server import EmulatorConfig, EmulatorServer
from testkit import databases
from testkit.chat import TOKENS, Chat, start_bot
from testkit.databases import DatabaseServers
from testkit.fake_stages import Script, on_every_queue, worker_with_slack
from testkit.installations import remove_deployed
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.service_workflow import ServiceWorkflow


def _own_port_window() -> None:
    """Parallel sessions (pytest -n) pick ports from windows that never meet."""
    worker, count = (
        os.environ.get("PYTEST_XDIST_WORKER"),
        os.environ.get("PYTEST_XDIST_WORKER_COUNT"),
    )
    if worker and count and "SHIPMATE_PORT_WINDOW" not in os.environ:
        first, end = devstack._port_window()
        size = (end - first) // int(count)
        start = first + size * int(worker.removeprefix("gw"))
        os.environ["SHIPMATE_PORT_WINDOW"] = f"{start}-{start + size - 100}"


_own_port_window()

# Where the machine's database servers would be; absent, the session starts its own.
POSTGRES_URL = os.environ.get("SHIPMATE_TEST_POSTGRES_URL", databases.MACHINE_POSTGRES)
MYSQL_URL = os.environ.get("SHIPMATE_TEST_MYSQL_URL", databases.MACHINE_MYSQL)
WHEEL_CACHE = Path(os.environ.get("SHIPMATE_TEST_WHEELHOUSE", "~/.cache/shipmate/wheelhouse"))


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    state = tmp_path_factory.mktemp("stack")
    with devstack.LocalStack(echo=lambda line: None) as local:
        ports = {
            "temporal": devstack.free_port(),
            "ui": devstack.free_port(),
            "registry": devstack.free_port(),
            "moto": devstack.free_port(),
        }
        local.start(devstack.temporal_part(state, ports["temporal"], ports["ui"]))
        local.start(devstack.registry_part(state, ports["registry"]))
        local.start(devstack.moto_part(ports["moto"]))
        aws = devstack.moto_credentials(ports["moto"])
        os.environ.update({k: v for k, v in aws.items() if k.startswith("AWS_")})
        yield ports, state


@pytest.fixture(scope="session")
def installation() -> str:
    """The session's installation id: what it deploys carries it, and goes at the end."""
    return f"t{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def settings(stack, installation, database_servers) -> Settings:
    ports, state = stack
    return Settings(
        temporal_address=f"127.0.0.1:{ports['temporal']}",
        temporal_ui_port=ports["ui"],
        task_queue="shipmate-tests",
        registry=f"127.0.0.1:{ports['registry']}",
        registry_port=ports["registry"],
        aws_endpoint_url=f"http://127.0.0.1:{ports['moto']}",
        state_dir=state,
        wheelhouse=WHEEL_CACHE.expanduser(),
        approval_timeout_hours=1,
        # deployed services get their databases on the session's servers
        postgres_url=database_servers.postgres,
        mysql_url=database_servers.mysql,
        router_admin_port=devstack.free_port(),
        local_ports=_port_range(),
        installation=installation,
        developers=["U0ALICE", "U0BOB"],  # as under `shipmate dev`; the default is nobody
    )


def _port_range(size: int = 40) -> str:
    first = devstack.free_port()
    return f"{first}-{first + size - 1}"


@pytest.fixture(scope="session", autouse=True)
def leave_nothing_deployed(installation):
    """Whatever the session's installation deployed goes when the session ends (its
    databases go with the database_servers fixture)."""
    yield
    import docker

    try:
        remove_deployed(installation)
    except docker.errors.DockerException:
        pass  # no engine: nothing was deployed


@pytest.fixture(scope="session")
def database_servers(tmp_path_factory, installation) -> Iterator[DatabaseServers]:
    """The machine's PostgreSQL and MariaDB where they answer, else the session's own
    (started as `shipmate dev` starts them); what the session's deploys made goes after."""
    state = tmp_path_factory.mktemp("databases")
    with devstack.LocalStack(echo=lambda line: None) as local:
        servers = databases.machine_or_own(local, state, POSTGRES_URL, MYSQL_URL)
        print(f"\ndatabase servers: {servers.describe()}")
        yield servers
        servers.drop_everything_of(installation)
    databases.forget_own(state)  # once its servers have stopped


CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
async def browser():
    """One Chromium for the session (Debian's: no browser is ever downloaded); each test
    opens its own pages in it."""
    from playwright.async_api import async_playwright

    if not shutil.which(CHROMIUM):
        pytest.fail("Chromium missing: apt-get install -y chromium (deploy/setup-local.sh does)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        await launched.close()


@pytest.fixture()
async def page(browser):
    """A page of its own in the session's Chromium, closed after the test."""
    context = await browser.new_context()
    opened = await context.new_page()
    yield opened
    await context.close()


@pytest.fixture(scope="session")
def docker_ready(settings):
    if not doctor.docker_reachable(settings):
        pytest.fail("Docker engine not reachable: run `shipmate doctor --fix` (starts dockerd)")
    from activities.images import base_image_present

    if not base_image_present(settings):
        pytest.fail(f"base image {settings.base_image} missing: run `shipmate doctor --fix`")


@pytest.fixture(scope="session")
async def client(settings):
    return await connect(settings)


@pytest.fixture(scope="session")
async def worker(client, settings, docker_ready):
    from cli.worker import build_workers

    async with build_workers(client, settings) as running:
        yield running


@pytest.fixture()
async def fake(client, settings):
    """A worker with scripted stages on a queue of its own, and settings pointing at it."""
    queue = f"fake-{uuid.uuid4().hex[:8]}"
    local = settings.model_copy(
        update={"task_queue": queue, "approvers": ["U0BOB", "U0DAVE"], "heartbeat_seconds": 5}
    )
    script = Script(settings=local)
    workers = on_every_queue(
        client, queue, [ServiceWorkflow, DeliveryWorkflow], script.activities()
    )
    async with workers:
        yield script, local


# The Slack side: an emulator, a bot connected to it, and a worker with scripted stages
# and the real notify activity.


@pytest.fixture()
async def emulator():
    server = await EmulatorServer(EmulatorConfig(port=0)).start()
    yield server
    await server.stop()


@pytest.fixture()
def slack_settings(settings, emulator):
    return settings.model_copy(
        update={
            "task_queue": f"bot-{uuid.uuid4().hex[:6]}",
            "slack_bot_token": SecretStr(TOKENS["bot"]),
            "slack_app_token": SecretStr(TOKENS["app"]),
            "slack_api_url": f"{emulator.base_url}/api/",
            "heartbeat_seconds": 5,
            "developers": ["U0ALICE", "U0BOB"],  # as under `shipmate dev`: carol only watches
        }
    )


@pytest.fixture()
async def scripted_worker(client, slack_settings):
    script = Script()
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with worker_with_slack(client, slack_settings, script, executor):
            yield script


@pytest.fixture()
async def bot(slack_settings, emulator, scripted_worker):
    handler = await start_bot(slack_settings, emulator)
    yield handler
    await handler.close_async()


@pytest.fixture()
def chat(emulator) -> Chat:
    return Chat(emulator)


@pytest.fixture()
async def ecs_worker(client, settings):
    """Scripted stages up to the push; the real ECS deploy and verify against moto."""
    local = settings.model_copy(
        update={"task_queue": f"ecs-{uuid.uuid4().hex[:8]}", "approvers": ["U0BOB", "U0DAVE"]}
    )
    real = DeliveryActivities(local)
    scripted = [
        a
        for a in Script(settings=local).activities()
        if a.__temporal_activity_definition.name not in ("deploy_service", "verify_service")
    ]
    with ThreadPoolExecutor(max_workers=4) as executor:
        workers = on_every_queue(
            client,
            local.task_queue,
            [ServiceWorkflow, DeliveryWorkflow],
            [*scripted, real.deploy_service, real.verify_service],
            executor,
        )
        async with workers:
            yield local


# Real databases for the generated services: a fresh one per test, dropped after.
@pytest.fixture()
def postgres_url(database_servers):
    with database_servers.postgres_database() as url:
        yield url


@pytest.fixture()
def mariadb_url(database_servers):
    with database_servers.mysql_database() as url:
        yield url
