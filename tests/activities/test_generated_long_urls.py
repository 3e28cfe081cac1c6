"""Long URLs on a generated service: the answer a client gets is one the OpenAPI document
lists. Found by a clean-clone CI run: schemathesis sent the longest `notes` filter the
document allowed (100,000 characters); when the request reached uvicorn in pieces, h11
refused it with a 400 that the list route did not document."""

from __future__ import annotations

import os
import socket
import time

import httpx

from tests.activities.test_scaffold import SPECS, generate, serving


def _sent_in_pieces(base: str, target: str) -> int:
    """The status of a GET whose request line arrives in two parts, as it does under load
    or through a slow network: uvicorn's reader sees the first part incomplete."""
    host, port = base.removeprefix("http://").split(":")
    request = f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request[:20_000])
        time.sleep(0.3)
        try:
            conn.sendall(request[20_000:])
        except OSError:
            pass  # the server may answer and close before the rest arrives
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    return int(reply.split(b" ", 2)[1])


def _bounded(schema: dict) -> bool:
    """Whether a string parameter's longest valid value is short: a small maxLength, a
    list of choices, a format such as a date, or a pattern with no open-ended repeat."""
    if "maxLength" in schema:
        return schema["maxLength"] <= 255
    pattern = schema.get("pattern", "*")
    return "enum" in schema or "format" in schema or not any(c in pattern for c in "*+")


def test_every_list_filter_fits_in_a_url_and_an_over_long_one_gets_a_documented_answer(
    tmp_path,
):
    project = generate(SPECS["every type"], tmp_path / "service")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/sinks.db"}
    with serving(project, env) as base:
        document = httpx.get(f"{base}/openapi.json").json()
        listing = document["paths"]["/sinks"]["get"]
        for parameter in listing["parameters"]:
            for schema in parameter["schema"].get("anyOf", [parameter["schema"]]):
                if schema.get("type") == "string":
                    assert _bounded(schema), parameter
        assert "400" in listing["responses"]

        # a filter over its limit is refused by the route, whole or in pieces
        assert httpx.get(f"{base}/sinks", params={"notes": "a" * 256}).status_code == 422
        status = _sent_in_pieces(base, "/sinks?notes=" + "a" * 40_000)
        assert str(status) in listing["responses"], status
        assert httpx.get(f"{base}/sinks", params={"notes": "a" * 255}).status_code == 200
