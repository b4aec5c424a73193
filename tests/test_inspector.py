"""The committed server through an MCP client that nobody here wrote: the official MCP Inspector
CLI (``@modelcontextprotocol/inspector``, version pinned in the Makefile).

``make inspector`` installs it into ``.node/`` and ``make test`` does that first. Every test runs
``.node/node_modules/.bin/mcp-inspector --cli`` as a subprocess against ``generated/ai_workflows``
(stdio, and streamable HTTP), with the server pointed at the session's local AWS.

When the binary is missing the tests fail and say how to install it: a client check that skips
itself silently is a check nobody runs. The one exception is a developer's machine without
Node.js (``CI`` unset), where the tests are skipped with that reason, so that ``pytest`` still runs
everything else there; ``make test`` itself refuses to start without Node.js and npm.

Exit codes of the Inspector CLI (2.12.0): 0 success (``--format json``: ``{"result": ...}`` on
stdout), 5 the tool returned ``isError`` (the result on stdout, ``tool_is_error`` on stderr),
6 ``tools/list --strict`` found schema portability errors (``schemaFindings`` in the JSON).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from localaws.stack import LocalAws, free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[1]
GENERATED = ROOT / "generated"
INSPECTOR = ROOT / ".node" / "node_modules" / ".bin" / "mcp-inspector"
WORKFLOW_TOOLS = {"daily_etl", "document_analysis", "order_processing", "support_triage"}
ORDER_MACHINE = "ai-workflows-order-processing"
RUN_TIMEOUT = 120  # seconds for one Inspector run (about 1-3 s here)
EXIT_OK, EXIT_TOOL_IS_ERROR, EXIT_UNPORTABLE = 0, 5, 6

CUSTOMER = {"customerId": "CUST-77", "email": "ada@example.com", "tier": "gold"}
ITEMS = [{"sku": "KB-1001", "quantity": 1, "unitPrice": 89.5}]


@dataclass
class Run:
    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.stdout)
        return data

    @property
    def result(self) -> dict[str, Any]:
        result: dict[str, Any] = self.json["result"]
        return result

    def explain(self) -> str:
        return (
            f"$ {' '.join(self.command)}\nexit {self.returncode} after {self.seconds:.1f} s\n"
            f"stdout: {self.stdout[-3000:]}\nstderr: {self.stderr[-3000:]}"
        )


Inspect = Callable[..., Run]


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
def inspect(inspector: Path, tmp_path_factory: pytest.TempPathFactory) -> Inspect:
    """``inspect(*options, target=[...])`` runs one Inspector CLI command with JSON output.

    The Inspector gets a private home, catalog and client config, so it writes nothing into the
    user's home directory. It is started in a session of its own, so that a run that hangs is
    killed together with the stdio server it spawned.
    """
    home = tmp_path_factory.mktemp("inspector-home")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "MCP_CATALOG_PATH": str(home / "catalog.json"),
        "MCP_CLIENT_CONFIG_PATH": str(home / "client.json"),
    }

    def run(*options: str, target: Sequence[str]) -> Run:
        command = [str(inspector), "--cli", "--format", "json", "--connect-timeout", "30000",
                   *options, "--", *target]  # fmt: skip
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            env=env,
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
        return Run(command, process.returncode, stdout, stderr, time.monotonic() - started)

    return run


@pytest.fixture(scope="module")
def stdio(inspect: Inspect, local_aws: LocalAws) -> Callable[..., Run]:
    """``stdio(*options)``: one Inspector run against ``python -m ai_workflows`` over stdio.

    A stdio server started by the Inspector gets only HOME, PATH, SHELL, TERM and what ``-e``
    passes, so the local AWS settings go in as ``-e`` pairs.
    """
    server = ["--cwd", str(GENERATED)]
    for key, value in local_aws.env.items():
        server += ["-e", f"{key}={value}"]

    def run(*options: str) -> Run:
        return inspect(*server, *options, target=[sys.executable, "-m", "ai_workflows"])

    return run


def tools_by_name(run: Run) -> dict[str, dict[str, Any]]:
    return {tool["name"]: tool for tool in run.result["tools"]}


def strict_errors(run: Run) -> list[str]:
    return [
        f"{tool['toolName']}: {finding['rule']} at {finding['path']}: {finding['issue']}"
        for tool in run.json.get("schemaFindings", [])
        for finding in tool["findings"]
        if finding["severity"] == "error"
    ]


def test_tools_list_strict_over_stdio(stdio: Callable[..., Run]) -> None:
    run = stdio("--method", "tools/list", "--strict")
    assert run.returncode == EXIT_OK, run.explain()
    assert strict_errors(run) == [], run.explain()
    tools = tools_by_name(run)
    assert set(tools) >= WORKFLOW_TOOLS, run.explain()
    etl = tools["daily_etl"]["inputSchema"]
    assert set(etl["required"]) == {"runDate", "tables"}
    assert etl["properties"]["tables"]["items"]["enum"] == ["orders", "customers", "inventory"]
    order = tools["order_processing"]["inputSchema"]
    assert set(order["required"]) >= {"orderId", "customer", "items", "currency"}
    assert order["properties"]["currency"]["enum"] == ["USD", "EUR", "GBP"]
    assert set(tools["document_analysis"]["inputSchema"]["required"]) == {"bucket", "key"}
    assert tools["support_triage"]["inputSchema"]["additionalProperties"] is True


def test_a_call_with_key_value_arguments_runs_the_workflow(stdio: Callable[..., Run]) -> None:
    run = stdio(
        "--method", "tools/call", "--tool-name", "daily_etl",
        "--tool-arg", "runDate=2026-11-20", 'tables=["orders","customers","inventory"]',
        "dryRun=true",
    )  # fmt: skip
    assert run.returncode == EXIT_OK, run.explain()
    result = run.result
    assert result["isError"] is False
    data = result["structuredContent"]
    assert data["status"] == "SUCCEEDED", run.explain()
    assert data["executionArn"].startswith(
        "arn:aws:states:us-east-1:000000000000:execution:ai-workflows-daily-etl:"
    )
    assert data["output"]["status"] == "COMPLETE"
    assert data["output"]["dryRun"] is True
    assert data["output"]["totalRows"] == 15
    assert [t["rows"] for t in data["output"]["tables"]] == [6, 4, 5]
    assert json.loads(result["content"][0]["text"])["output"] == data["output"]


def test_object_arguments_sent_as_json_text_reach_the_workflow(
    stdio: Callable[..., Run], count_executions: Callable[[str], int]
) -> None:
    # `--tool-arg key=<JSON>` sends `customer` (a bare $ref in the schema) as JSON text; the
    # runtime decodes it, and the workflow gets the object.
    before = count_executions(ORDER_MACHINE)
    run = stdio(
        "--method", "tools/call", "--tool-name", "order_processing",
        "--tool-arg", "orderId=ORD-77000001", f"customer={json.dumps(CUSTOMER)}",
        f"items={json.dumps(ITEMS)}", "currency=EUR",
    )  # fmt: skip
    assert run.returncode == EXIT_OK, run.explain()
    data = run.result["structuredContent"]
    assert data["status"] == "SUCCEEDED", run.explain()
    assert data["output"]["orderId"] == "ORD-77000001"
    assert data["output"]["status"] == "CONFIRMED"
    assert data["output"]["subtotal"] == 89.5
    assert count_executions(ORDER_MACHINE) == before + 1


def test_an_express_call_with_json_arguments(stdio: Callable[..., Run]) -> None:
    arguments = {"bucket": "ai-workflows-documents", "key": "docs/product-launch-memo.txt"}
    run = stdio(
        "--method", "tools/call", "--tool-name", "document_analysis",
        "--tool-args-json", json.dumps(arguments),
    )  # fmt: skip
    assert run.returncode == EXIT_OK, run.explain()
    data = run.result["structuredContent"]
    assert data["status"] == "SUCCEEDED", run.explain()
    assert data["output"]["results"]["wordCount"] > 0


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        (
            "order_processing",
            {"orderId": "ORD-77000002", "customer": CUSTOMER, "items": [], "currency": "JPY"},
            ["- items:", "- currency: Input should be 'USD', 'EUR' or 'GBP'"],
        ),
        (
            "daily_etl",
            {"runDat": "2026-11-20", "tables": ["orders"]},
            ["- runDat:", "- runDate: Field required", "Arguments this tool takes: runDate"],
        ),
    ],
    ids=["bad-values", "misspelt-field"],
)
def test_invalid_arguments_exit_5_and_name_the_field(
    stdio: Callable[..., Run],
    count_executions: Callable[[str], int],
    tool: str,
    arguments: dict[str, Any],
    expected: list[str],
) -> None:
    before = count_executions(ORDER_MACHINE)
    run = stdio(
        "--method", "tools/call", "--tool-name", tool,
        "--tool-args-json", json.dumps(arguments),
    )  # fmt: skip
    assert run.returncode == EXIT_TOOL_IS_ERROR, run.explain()
    assert '"tool_is_error"' in run.stderr
    assert run.result["isError"] is True
    text = run.result["content"][0]["text"]
    assert text.startswith(f"Invalid arguments for {tool}; nothing was started"), text
    for line in expected:
        assert line in text, text
    assert count_executions(ORDER_MACHINE) == before


@pytest.fixture
def http_server(local_aws: LocalAws, tmp_path: Path) -> Iterator[str]:
    """``python -m ai_workflows --transport http`` on a free loopback port; yields its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | local_aws.env
    log = tmp_path / "server.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "ai_workflows", "--transport", "http", "--port", str(port)],
            cwd=GENERATED,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"the server exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"no listener on {port}: {log.read_text()}"
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()  # by its PID: only the server this fixture started
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_tools_list_strict_over_streamable_http(inspect: Inspect, http_server: str) -> None:
    run = inspect("--transport", "http", "--method", "tools/list", "--strict",
                  target=[http_server])  # fmt: skip
    assert run.returncode == EXIT_OK, run.explain()
    assert strict_errors(run) == [], run.explain()
    tools = tools_by_name(run)
    assert set(tools) >= WORKFLOW_TOOLS, run.explain()
    assert set(tools["daily_etl"]["inputSchema"]["required"]) == {"runDate", "tables"}


BAD_SERVER = """
import json, sys

for line in sys.stdin:
    message = json.loads(line)
    if "id" not in message:
        continue
    if message["method"] == "initialize":
        result = {"protocolVersion": message["params"]["protocolVersion"],
                  "capabilities": {"tools": {}}, "serverInfo": {"name": "bad", "version": "0"}}
    else:
        schema = {"type": "object", "properties": {"anything": True}}
        result = {"tools": [{"name": "loose", "inputSchema": schema}]}
    print(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}), flush=True)
"""


def test_strict_mode_does_fail_on_an_unportable_schema(inspect: Inspect, tmp_path: Path) -> None:
    """The check above is not vacuous: this pin of the Inspector exits 6 on a boolean schema."""
    script = tmp_path / "bad_server.py"
    script.write_text(BAD_SERVER)
    run = inspect("--method", "tools/list", "--strict", target=[sys.executable, str(script)])
    assert run.returncode == EXIT_UNPORTABLE, run.explain()
    assert '"schema_unportable"' in run.stderr
    errors = strict_errors(run)
    assert len(errors) == 1 and errors[0].startswith("loose: boolean-schema at "), run.explain()
