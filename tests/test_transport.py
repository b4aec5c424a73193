"""The generated server over HTTP, as the specification requires: Host and Origin checked
whatever the bind address, the bearer token's scheme in any case, a blank token refused."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

GENERATED = Path(__file__).parents[1] / "generated"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ai_workflows", "--transport", "http", *args],
        cwd=GENERATED,
        env={**os.environ, "AWS_REGION": "us-east-1", **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def served() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = start("--port", str(port), "--allowed-host", "mcp.example.test:*",
                    "--allowed-origin", "https://app.example.test",
                    env={"SFN_MCP_HTTP_TOKEN": "s3cret"})  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield str(port), process
    finally:
        process.terminate()
        process.wait(timeout=10)


class Answer:
    def __init__(self, status: int) -> None:
        self.status_code = status


def post(port: str, **headers: str) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    try:
        fields = {**HEADERS, "host": f"127.0.0.1:{port}", **headers}
        connection.request("POST", "/mcp", body=json.dumps(INITIALIZE), headers=fields)
        response = connection.getresponse()
        response.read()
        return Answer(response.status)
    finally:
        connection.close()


def test_the_bearer_scheme_is_case_insensitive(served: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = served
    assert post(url).status_code == 401
    assert post(url, authorization="Bearer wrong").status_code == 401
    for scheme in ("Bearer", "bearer", "BEARER"):
        assert post(url, authorization=f"{scheme} s3cret").status_code == 200


def test_host_and_origin_are_checked(served: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = served
    auth = {"authorization": "Bearer s3cret"}
    assert post(url, host="evil.example:80", **auth).status_code == 421
    assert post(url, host="mcp.example.test:443", **auth).status_code == 200
    assert post(url, origin="https://evil.example", **auth).status_code == 403
    assert post(url, origin="https://app.example.test", **auth).status_code == 200
    assert post(url, origin="http://localhost:6274", **auth).status_code == 200


@pytest.mark.parametrize("token", ["", "   ", "two words"])
def test_a_blank_or_unprintable_token_is_refused_at_start(token: str) -> None:
    process = start("--port", str(free_port()), env={"SFN_MCP_HTTP_TOKEN": token})
    try:
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:  # it served instead of refusing: end it, then fail
            process.kill()
            process.wait(timeout=10)
    assert process.returncode != 0
    assert "SFN_MCP_HTTP_TOKEN is set but" in stderr and "Traceback" not in stderr


def test_http_flags_need_the_http_transport() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ai_workflows", "--allowed-host", "x"],
        cwd=GENERATED,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "need --transport http" in result.stderr


def initialize(port: str) -> tuple[int, str | None]:
    connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    try:
        fields = {**HEADERS, "host": f"127.0.0.1:{port}", "authorization": "Bearer s3cret"}
        connection.request("POST", "/mcp", body=json.dumps(INITIALIZE), headers=fields)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("mcp-session-id")
    finally:
        connection.close()


def test_a_flood_of_sessions_never_locks_a_new_client_out() -> None:
    port = free_port()
    process = start("--port", str(port), "--max-sessions", "20",
                    env={"SFN_MCP_HTTP_TOKEN": "s3cret"})  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        flood = [initialize(str(port)) for _ in range(60)]  # bounded: 60 requests, then stop
        assert all(status == 200 for status, _ in flood)
        assert initialize(str(port))[0] == 200  # a newcomer still gets in
        first = flood[0][1]
        assert first is not None
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        fields = {**HEADERS, "host": f"127.0.0.1:{port}", "authorization": "Bearer s3cret",
                  "mcp-session-id": first, "mcp-protocol-version": "2025-11-25"}  # fmt: skip
        ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
        connection.request("POST", "/mcp", body=json.dumps(ping), headers=fields)
        assert connection.getresponse().status == 404  # the longest idle session was closed
        connection.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
