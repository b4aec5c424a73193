"""OAuth 2.1 resource-server mode, against a local issuer of our own (tests/oauth_issuer.py: an
RSA key and its JWKS served on 127.0.0.1): only tokens signed by the issuer, for this server,
unexpired, pass; 401s point at the Protected Resource Metadata; a tool whose workflow is not
read-only needs the run scope, which the metadata advertises. The generated example package is
the server (its runtime copy is this runtime); tests/test_oauth_clients.py logs in to it with a
third-party client."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import anyio
import jwt
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.oauth_issuer import Issuer, free_port, local_issuer

GENERATED = Path(__file__).parents[1] / "generated"
pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    with local_issuer() as running:
        yield running


@pytest.fixture(scope="module")
def served(issuer: Issuer) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    process = subprocess.Popen(
        [sys.executable, "-m", "ai_workflows", "--transport", "http", "--port", str(port),
         "--oauth-issuer", issuer.url, "--resource-url", url, "--run-scope", "workflows:run"],
        cwd=GENERATED,
        env={**os.environ, "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
             "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"},
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                message = process.stderr.read() if process.stderr else "no start"
                raise AssertionError(message) from None
            time.sleep(0.1)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def status_of(url: str, token: str | None = None) -> tuple[int, dict[str, str]]:
    """The status and (lower-cased) headers of an initialize request."""
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}}).encode()  # fmt: skip
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as refused:
        return refused.code, {k.lower(): v for k, v in refused.headers.items()}


def test_a_request_without_a_token_is_pointed_at_the_resource_metadata(
    served: str, issuer: Issuer
) -> None:
    status, headers = status_of(served)
    assert status == 401
    challenge = headers["www-authenticate"]
    assert challenge.startswith("Bearer") and "resource_metadata=" in challenge
    metadata_url = challenge.split('resource_metadata="', 1)[1].split('"', 1)[0]
    with urllib.request.urlopen(metadata_url, timeout=10) as response:
        metadata = json.loads(response.read())
    assert metadata_url == served.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
    assert metadata["resource"] == served
    assert metadata["authorization_servers"] == [issuer.url]
    # Clients ask for the scopes listed here: the run scope must be among them.
    assert metadata["scopes_supported"] == ["workflows:run"]


def test_only_tokens_of_the_issuer_for_this_server_that_have_not_expired_pass(
    served: str, issuer: Issuer
) -> None:
    assert status_of(served, issuer.token(audience=served))[0] == 200
    refused = {
        "another audience": issuer.token(audience="http://127.0.0.1:1/mcp"),
        "expired": issuer.token(audience=served, lifetime=-120),
        "another key": issuer.token(audience=served, key=issuer.other_key),
        "another issuer": issuer.token(audience=served, iss="http://evil.example"),
        "not a JWT": "not-a-jwt",
        "a shared secret": jwt.encode(
            {"iss": issuer.url, "aud": served, "exp": int(time.time()) + 300},
            "k1-secret-long-enough-for-hmac-sha256",
            algorithm="HS256",
            headers={"kid": "k1"},
        ),
    }
    for why, token in refused.items():
        assert status_of(served, token)[0] == 401, why


async def call(url: str, token: str, tool: str) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        create_mcp_http_client(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool(tool, {})
        block = result.content[0]
        return str(getattr(block, "text", ""))


async def test_a_tool_that_is_not_read_only_needs_the_run_scope(
    served: str, issuer: Issuer
) -> None:
    without = await call(served, issuer.token(audience=served), "daily_etl")
    assert "lacks the scope 'workflows:run'" in without
    with anyio.fail_after(60):
        allowed = await call(
            served, issuer.token(audience=served, scope="workflows:run"), "daily_etl"
        )
    assert "scope" not in allowed  # it got as far as AWS (unreachable here)


def test_the_metadata_lists_the_scopes_every_request_needs_and_the_run_scope() -> None:
    """The SDK alone would list only ``mcp``."""
    from mcp.server.auth.settings import AuthSettings
    from starlette.testclient import TestClient

    from sfn_mcp_runtime.oauth import JwtVerifier, advertise_scopes
    from sfn_mcp_runtime.server import build_server

    resource = "http://127.0.0.1:1/mcp"
    auth = AuthSettings(
        issuer_url="http://127.0.0.1:2",
        resource_server_url=resource,
        required_scopes=["mcp"],
        validate_token_resource=False,
    )
    server = build_server("t", version="1", instructions="i", tools=())
    verifier = JwtVerifier("http://127.0.0.1:2", resource, "http://127.0.0.1:2/jwks")
    app = server.streamable_http_app(auth=auth, token_verifier=verifier)
    advertise_scopes(app, auth, "workflows:run")
    path = "/.well-known/oauth-protected-resource/mcp"
    assert [getattr(route, "path", None) for route in app.routes].count(path) == 1
    answer = TestClient(app).get(path, headers={"Origin": "http://localhost:6274"})
    assert answer.json()["scopes_supported"] == ["mcp", "workflows:run"]
    assert answer.headers["access-control-allow-origin"] == "*"  # browser clients read it too
