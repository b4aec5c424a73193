"""OAuth 2.1 resource-server mode through a client nobody here wrote: the official MCP Inspector
CLI (``@modelcontextprotocol/inspector``, the version pinned in the Makefile, installed into
``.node/`` by ``make inspector``), against the generated server over HTTP and a local
authorization server of our own (``tests/oauth_issuer.py``).

Headless, the Inspector goes the whole way a user would: on the server's 401 it reads the
Protected Resource Metadata (RFC 9728) named by ``WWW-Authenticate: Bearer resource_metadata=``,
the authorization-server metadata (RFC 8414) of the issuer named there, registers itself
(RFC 7591), and sends the "browser" to the authorization URL (PKCE, ``resource=`` this server,
RFC 8707). The browser is a script of ours given as ``BROWSER`` (and as ``xdg-open`` / ``open``
on the ``PATH``): it fetches the URL, which the issuer approves at once with a redirect to the
Inspector's loopback callback; the Inspector then exchanges the code for a token and retries.
``MCP_AUTO_OPEN_ENABLED=true`` is what lets it do that without a terminal.

The Inspector's stdout is one JSON object (``--format json``); exit codes (2.12.0): 0 success,
3 ``auth_required``, 5 the tool returned ``isError``.

As in tests/test_inspector.py, a missing Inspector fails the tests (and says how to install it),
except on a developer's machine without Node.js (``CI`` unset), where they are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fake_sfn import FakeSfn, described
from tests.oauth_issuer import Issuer, free_port, local_issuer

ROOT = Path(__file__).parents[1]
GENERATED = ROOT / "generated"
INSPECTOR = ROOT / ".node" / "node_modules" / ".bin" / "mcp-inspector"
WORKFLOW_TOOLS = {"daily_etl", "document_analysis", "order_processing", "support_triage"}
RUN_SCOPE = "workflows:run"
ACCOUNT = "arn:aws:states:us-east-1:000000000000"
RUN_TIMEOUT = 120  # seconds for one Inspector run (2-4 s here, with the login)
EXIT_OK, EXIT_AUTH_REQUIRED, EXIT_TOOL_IS_ERROR = 0, 3, 5

# The browser: fetch the authorization URL (only ever one on 127.0.0.1), follow the issuer's
# redirect to the client's callback, and note what happened.
BROWSER = """#!{python}
import sys, urllib.request
url = sys.argv[-1]
with open({log!r}, "a") as log:
    if not url.startswith("http://127.0.0.1:"):
        log.write(f"REFUSED {{url}}\\n")
        sys.exit(1)
    with urllib.request.urlopen(url, timeout=30) as page:
        log.write(f"OPENED {{url}}\\nLANDED {{page.status}} {{page.url}}\\n")
"""


@dataclass
class Run:
    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    requests: list[Any]  # what the issuer received during the run
    browser: list[str]  # the fake browser's log lines

    @property
    def result(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.stdout)["result"]
        return result

    def explain(self) -> str:
        seen = "\n".join(f"  {r.method} {r.path} {r.query or r.form or r.json or ''}"
                         for r in self.requests)  # fmt: skip
        return (
            f"$ {' '.join(self.command)}\nexit {self.returncode}\nstdout: {self.stdout[-3000:]}\n"
            f"stderr: {self.stderr[-3000:]}\nthe issuer saw:\n{seen}\nbrowser: {self.browser}"
        )

    def seen(self, method: str, path: str) -> list[Any]:
        return [r for r in self.requests if r.method == method and r.path == path]


@pytest.fixture(scope="module")
def inspector() -> Path:
    if os.access(INSPECTOR, os.X_OK):
        return INSPECTOR
    reason = (
        f"the MCP Inspector CLI is not installed at {INSPECTOR.relative_to(ROOT)}: run `make test` "
        "or `make inspector` (needs Node.js 20+ and npm)"
    )
    if shutil.which("node") is None and not os.environ.get("CI"):
        pytest.skip(f"{reason}; Node.js is not installed on this machine")
    pytest.fail(reason)


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    with local_issuer() as running:
        yield running


@pytest.fixture(scope="module")
def aws() -> Iterator[FakeSfn]:
    """Step Functions for the server: every execution asked about has SUCCEEDED."""
    fake = FakeSfn()
    output = json.dumps({"status": "COMPLETE"})
    fake.routes["DescribeExecution"] = lambda body: described(body, "SUCCEEDED", output=output)
    fake.routes["StartExecution"] = lambda body: (200, {
        "executionArn": f"{ACCOUNT}:execution:ai-workflows-daily-etl:{body.get('name', 'x')}",
        "startDate": 0})  # fmt: skip
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


@pytest.fixture(scope="module")
def served(issuer: Issuer, aws: FakeSfn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The generated server in OAuth mode on a free loopback port; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    log = tmp_path_factory.mktemp("oauth-server") / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
        "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": aws.url, "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x", "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "SFN_MCP_MAX_WAIT_SECONDS": "5"}  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "ai_workflows", "--transport", "http", "--port", str(port),
             "--oauth-issuer", issuer.url, "--resource-url", url, "--run-scope", RUN_SCOPE],
            cwd=GENERATED, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"the server exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"no listener on {port}: {log.read_text()}"
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()  # by its PID: only the server this fixture started
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


Inspect = Callable[..., Run]


@pytest.fixture
def inspect(inspector: Path, issuer: Issuer, served: str, tmp_path: Path) -> Inspect:
    """``inspect(*options, login=False)``: one Inspector CLI run against the served URL.

    It gets a private home, catalog, client config and in-memory secrets, so that every run
    starts logged out and nothing is written into the user's home. With ``login``, it may log in
    (a fake browser, a callback on a free port); without, ``--stored-auth-only`` forbids it.
    """
    home = tmp_path / "home"
    bin_dir = tmp_path / "bin"
    home.mkdir()
    bin_dir.mkdir()
    browser_log = tmp_path / "browser.log"
    browser = bin_dir / "browser"
    browser.write_text(BROWSER.format(python=sys.executable, log=str(browser_log)))
    browser.chmod(0o755)
    for opener in ("xdg-open", "open"):  # what the Inspector's opener runs on Linux / macOS
        (bin_dir / opener).symlink_to(browser)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "MCP_CATALOG_PATH": str(home / "catalog.json"),
        "MCP_CLIENT_CONFIG_PATH": str(home / "client.json"),
        "MCP_INSPECTOR_SECRET_STORE": "memory",
        "BROWSER": str(browser),
    }

    def run(*options: str, login: bool = False) -> Run:
        extra = {"MCP_AUTO_OPEN_ENABLED": "true" if login else "false"}
        auth = (
            ["--callback-url", f"http://127.0.0.1:{free_port()}/oauth/callback"]
            if login
            else ["--stored-auth-only"]
        )
        command = [str(inspector), "--cli", "--format", "json", "--transport", "http",
                   "--connect-timeout", "30000", *auth, *options, "--", served]  # fmt: skip
        before = len(issuer.requests)
        process = subprocess.Popen(
            command,
            env=env | extra,
            cwd=home,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group this run started, nothing else
            stdout, stderr = process.communicate()
            pytest.fail(f"the Inspector took over {RUN_TIMEOUT} s: {command}\n{stderr[-3000:]}")
        lines = browser_log.read_text().splitlines() if browser_log.exists() else []
        requests = issuer.requests[before:]
        return Run(command, process.returncode, stdout, stderr, requests, lines)

    return run


def test_the_inspector_logs_in_through_the_protected_resource_metadata(
    inspect: Inspect, issuer: Issuer, served: str
) -> None:
    run = inspect("--method", "tools/list", login=True)
    assert run.returncode == EXIT_OK, run.explain()
    assert {tool["name"] for tool in run.result["tools"]} >= WORKFLOW_TOOLS, run.explain()

    # The issuer is named nowhere but in the server's Protected Resource Metadata.
    assert run.seen("GET", "/.well-known/oauth-authorization-server"), run.explain()
    (registration,) = run.seen("POST", "/register")
    callback = registration.json["redirect_uris"][0]
    assert callback.startswith("http://127.0.0.1:"), run.explain()
    (authorization,) = run.seen("GET", "/authorize")
    query = authorization.query
    assert query["resource"] == served, run.explain()
    assert query["client_id"] in issuer.clients
    assert query["redirect_uri"] == callback
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]
    # What the user is shown, and where the browser went: the issuer's authorization endpoint.
    assert f"Please navigate to: {issuer.url}/authorize?" in run.stderr, run.explain()
    assert run.browser[0].startswith(f"OPENED {issuer.url}/authorize?"), run.explain()
    assert run.browser[1].startswith(f"LANDED 200 {callback}?"), run.explain()
    (exchange,) = run.seen("POST", "/token")
    assert exchange.form["resource"] == served, run.explain()
    assert exchange.form["grant_type"] == "authorization_code"


def test_the_login_asks_for_the_scope_the_server_advertises(inspect: Inspect, aws: FakeSfn) -> None:
    """The Inspector asks for the scopes in the metadata's ``scopes_supported``; with the run
    scope there, the token it gets can start a workflow that is not read-only."""
    started = aws.actions().count("StartExecution")
    arguments = {"runDate": "2026-11-20", "tables": ["orders"]}
    run = inspect("--method", "tools/call", "--tool-name", "daily_etl",
                  "--tool-args-json", json.dumps(arguments), login=True)  # fmt: skip
    (authorization,) = run.seen("GET", "/authorize")
    assert RUN_SCOPE in authorization.query.get("scope", "").split(), run.explain()
    assert "lacks the scope" not in run.stdout, run.explain()
    assert aws.actions().count("StartExecution") == started + 1, run.explain()


def test_with_a_token_from_the_issuer_it_calls_the_status_tool(
    inspect: Inspect, issuer: Issuer, served: str, aws: FakeSfn
) -> None:
    arn = f"{ACCOUNT}:execution:ai-workflows-daily-etl:run-1"
    token = issuer.token(audience=served)
    before = len(aws.requests)
    run = inspect("--header", f"Authorization: Bearer {token}", "--method", "tools/call",
                  "--tool-name", "get_execution", "--tool-arg", f"execution_arn={arn}")  # fmt: skip
    assert run.returncode == EXIT_OK, run.explain()
    data = run.result["structuredContent"]
    assert data["status"] == "SUCCEEDED" and data["executionArn"] == arn, run.explain()
    assert [body["executionArn"] for action, body, _ in aws.requests[before:]
            if action == "DescribeExecution"] == [arn]  # fmt: skip
    assert not run.seen("GET", "/authorize"), run.explain()


@pytest.mark.parametrize(
    "why", ["not a JWT", "for another server", "signed by another key", "expired"]
)
def test_with_a_bad_token_it_is_refused(
    inspect: Inspect, issuer: Issuer, served: str, aws: FakeSfn, why: str
) -> None:
    token = {
        "not a JWT": lambda: "not-a-jwt",
        "for another server": lambda: issuer.token(audience="http://127.0.0.1:1/mcp"),
        "signed by another key": lambda: issuer.token(audience=served, key=issuer.other_key),
        "expired": lambda: issuer.token(audience=served, lifetime=-120),
    }[why]()
    before = len(aws.requests)
    run = inspect("--header", f"Authorization: Bearer {token}", "--method", "tools/list")
    assert run.returncode == EXIT_AUTH_REQUIRED, run.explain()
    assert json.loads(run.stderr.strip().splitlines()[-1])["error"]["code"] == "auth_required"
    assert run.stdout == "", run.explain()
    assert len(aws.requests) == before
