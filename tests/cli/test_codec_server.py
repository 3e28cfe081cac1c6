"""`shipmate codec-server`, as the Temporal Web UI (and a stranger) would call it.

The Web UI shows a history's payloads by POSTing them to the codec server; the server
holds the keys, so it must answer the UI and nobody else: loopback only unless a token
is set, the token checked when it is, and browsers only from the UI's origin. Each
server here is the real command in its own process.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import subprocess
import sys
from contextlib import contextmanager

import httpx
import pytest
from pydantic import SecretStr

from cli import devstack
from shipmate.payload_codec import new_key
from shipmate.ports import port_open
from shipmate.settings import Settings
from shipmate.temporal import data_converter
from testkit.waiting import eventually_sync
from workflows.models import ChangeRequest

KEYS = f"{new_key('k2025')},{new_key('k2024')}"
UI_PORT = 8233
UI = f"http://127.0.0.1:{UI_PORT}"
TOKEN = "codec-token-for-the-test"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def plain_payload(text: str) -> dict:
    return {"metadata": {"encoding": b64(b"json/plain")}, "data": b64(f'"{text}"'.encode())}


def command(tmp_path, *args: str, **env: str) -> list:
    environment = {
        **os.environ,
        "SHIPMATE_STATE_DIR": str(tmp_path),  # no `shipmate dev` key of the checkout's
        "SHIPMATE_TEMPORAL_UI_PORT": str(UI_PORT),
        **env,
    }
    return [[sys.executable, "-m", "cli.main", "codec-server", *args], environment]


@contextmanager
def codec_server(tmp_path, *args: str, **env: str):
    """The command running on a free port; its base URL while it runs."""
    port = devstack.free_port()
    argv, environment = command(tmp_path, "--port", str(port), *args, **env)
    server = subprocess.Popen(argv, env=environment, stdout=subprocess.PIPE, text=True)
    try:
        eventually_sync(lambda: port_open(port) or server.poll() is not None, what="codec server")
        assert server.poll() is None, server.stdout.read()
        yield f"http://127.0.0.1:{port}", port
    finally:
        server.terminate()
        server.wait(timeout=10)


def this_machines_address() -> str:
    """An address of this machine that is not loopback (where a colleague would call)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # sends nothing: only picks the outgoing interface
        address = probe.getsockname()[0]
    assert not address.startswith("127."), "this machine has no address beyond loopback"
    return address


def test_the_web_ui_round_trips_payloads_through_it(tmp_path):
    """Encode then decode gives the payload back; what a worker sealed, it opens; the
    UI's origin gets the CORS answers a browser needs."""
    with codec_server(tmp_path, SHIPMATE_PAYLOAD_KEYS=KEYS) as (url, _):
        preflight = httpx.options(
            f"{url}/decode",
            headers={
                "Origin": UI,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-namespace",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == UI
        assert "X-Namespace" in preflight.headers["access-control-allow-headers"]

        ui = {"Origin": UI, "X-Namespace": "default", "Content-Type": "application/json"}
        text = "build a payroll api with salaries"
        sealed = httpx.post(f"{url}/encode", json={"payloads": [plain_payload(text)]}, headers=ui)
        assert sealed.status_code == 200, sealed.text
        assert sealed.headers["access-control-allow-origin"] == UI
        (payload,) = sealed.json()["payloads"]
        assert base64.b64decode(payload["metadata"]["encoding"]) == b"binary/encrypted"
        assert base64.b64decode(payload["metadata"]["encryption-key-id"]) == b"k2025"
        assert text.encode() not in base64.b64decode(payload["data"])

        opened = httpx.post(f"{url}/decode", json={"payloads": [payload]}, headers=ui)
        assert opened.status_code == 200, opened.text
        assert opened.json() == {"payloads": [plain_payload(text)]}

        # what a worker with the same keys wrote into a history
        worker = data_converter(Settings(payload_keys=SecretStr(KEYS)))
        written = asyncio.run(
            worker.encode([ChangeRequest(request_text="add a bonus field", requester="U0ALICE")])
        )
        as_json = {
            "payloads": [
                {
                    "metadata": {k: b64(v) for k, v in p.metadata.items()},
                    "data": b64(p.data),
                }
                for p in written
            ]
        }
        shown = httpx.post(f"{url}/decode", json=as_json, headers=ui).json()["payloads"]
        assert b"add a bonus field" in base64.b64decode(shown[0]["data"])


def test_it_refuses_other_pages_bad_bodies_and_unknown_keys(tmp_path):
    with codec_server(tmp_path, SHIPMATE_PAYLOAD_KEYS=KEYS) as (url, _):
        stranger = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
        sealed = httpx.post(f"{url}/encode", json={"payloads": [plain_payload("x")]}).json()
        answer = httpx.post(f"{url}/decode", json=sealed, headers=stranger)
        assert answer.status_code == 403
        assert "access-control-allow-origin" not in answer.headers
        assert "payloads" not in answer.text

        assert httpx.post(f"{url}/decode", content=b"not json").status_code == 400
        assert httpx.get(f"{url}/decode").status_code == 405

        other = Settings(payload_keys=SecretStr(new_key("k2019")))
        old = asyncio.run(data_converter(other).encode(["a payload from 2019"]))[0]
        unknown = {"metadata": {k: b64(v) for k, v in old.metadata.items()}, "data": b64(old.data)}
        refused = httpx.post(f"{url}/decode", json={"payloads": [unknown]})
        assert refused.status_code == 422
        assert "key id 'k2019'" in refused.json()["error"]
        assert other.payload_keys.get_secret_value().partition(":")[2] not in refused.text


def test_with_a_token_it_answers_only_calls_that_carry_it(tmp_path):
    """A team serving it beyond loopback sets a token; every call must carry it."""
    env = {"SHIPMATE_PAYLOAD_KEYS": KEYS, "SHIPMATE_CODEC_SERVER_TOKEN": TOKEN}
    with codec_server(tmp_path, "--host", "0.0.0.0", **env) as (_, port):
        url = f"http://{this_machines_address()}:{port}"
        body = {"payloads": [plain_payload("build a crm api")]}
        assert httpx.post(f"{url}/encode", json=body).status_code == 401
        wrong = {"Authorization": "Bearer guessed"}
        assert httpx.post(f"{url}/encode", json=body, headers=wrong).status_code == 401
        right = {"Authorization": f"Bearer {TOKEN}"}
        answer = httpx.post(f"{url}/encode", json=body, headers=right)
        assert answer.status_code == 200
        assert TOKEN not in answer.text


def test_without_a_token_it_listens_on_loopback_only(tmp_path):
    with codec_server(tmp_path, SHIPMATE_PAYLOAD_KEYS=KEYS) as (url, port):
        assert httpx.post(f"{url}/encode", json={"payloads": []}).status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.post(f"http://{this_machines_address()}:{port}/encode", json={"payloads": []})

    argv, env = command(tmp_path, "--host", "0.0.0.0", SHIPMATE_PAYLOAD_KEYS=KEYS)
    refused = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert refused.stderr.startswith("shipmate: --host 0.0.0.0: set SHIPMATE_CODEC_SERVER_TOKEN")


def test_without_keys_it_says_which_setting_is_missing(tmp_path):
    argv, env = command(tmp_path, "--port", str(devstack.free_port()))
    env.pop("SHIPMATE_PAYLOAD_KEYS", None)
    refused = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert refused.stderr.startswith("shipmate: SHIPMATE_PAYLOAD_KEYS is not set")
