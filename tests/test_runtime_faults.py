"""What a fault-injection pass found in the shared runtime, each fault driven the way it was found:
an execution output no UTF-8 can carry, 200 answers that are no Step Functions answer, huge and
deeply nested arguments, a connection reset after a start was sent, and a client that dies with
a call in flight. The scripted endpoint (``FakeSfn``) and helpers are test_runtime's; the stdio
and HTTP tests run a tiny server module (``build_server`` + ``transport.main``) as a subprocess
against it.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel

import sfn_mcp_runtime
from sfn_mcp_runtime import definitions, execution, validation
from sfn_mcp_runtime.definitions import FreeFormInput, Tool, Workflow
from sfn_mcp_runtime.execution import run_workflow
from sfn_mcp_runtime.server import build_server
from tests.fake_sfn import (
    ARN,
    EXPRESS,
    GOOD,
    RESET,
    STANDARD_ARN,
    FakeSfn,
    described,
    serve_fake_sfn,
    server_with,
    text_of,
)

pytestmark = pytest.mark.anyio

SLOW = Workflow("slow", ARN + "slow", "STANDARD", max_wait_seconds=0.6)


@pytest.fixture
def sfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSfn]:
    yield from serve_fake_sfn(monkeypatch)


# --------------------------------------------------------------------------- a server process

SERVER_MODULE = """
import sys

from sfn_mcp_runtime.definitions import FreeFormInput, Tool, Workflow
from sfn_mcp_runtime.execution import run_workflow, workflow_input
from sfn_mcp_runtime.server import build_server
from sfn_mcp_runtime.transport import main

ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:"
TAGS = {
    "type": "object",
    "properties": {
        "tags": {"type": "array", "items": {"type": "integer", "minimum": 0}, "uniqueItems": True}
    },
}


def tool(workflow, schema=None):
    async def run(arguments, **options):
        return await run_workflow(workflow, workflow_input(arguments), **options)

    return Tool(name=workflow.name, title=workflow.name, description="d", workflow=workflow,
                input_model=FreeFormInput, run=run, schema=schema)


TOOLS = (
    tool(Workflow("quick", ARN + "quick", "EXPRESS")),
    tool(Workflow("slow", ARN + "slow", "STANDARD", max_wait_seconds=30, stop_on_cancel=True)),
    tool(Workflow("tags", ARN + "tags", "EXPRESS"), TAGS),
)
main(build_server("faults", version="1", instructions="i", tools=TOOLS), sys.argv[1:])
"""


def server_command(sfn: FakeSfn, tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of the server module, reaching ``sfn``."""
    module = tmp_path / "faults_server.py"
    module.write_text(SERVER_MODULE)
    env = {
        "PYTHONPATH": str(Path(sfn_mcp_runtime.__file__).parents[1]),
        "AWS_ENDPOINT_URL": sfn.url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "SFN_MCP_LOG_LEVEL": "INFO",
    }
    return [sys.executable, str(module)], env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def served(sfn: FakeSfn, tmp_path: Path, transport: str) -> AsyncIterator[Client]:
    """An SDK client of the server module run as a subprocess, over stdio or streamable HTTP."""
    command, env = server_command(sfn, tmp_path)
    if transport == "stdio":
        params = StdioServerParameters(command=command[0], args=command[1:], env=env)
        async with Client(params, read_timeout_seconds=30) as client:
            yield client
        return
    port = free_port()
    stderr = (tmp_path / "server.stderr").open("w")
    process = subprocess.Popen(
        [*command, "--transport", "http", "--port", str(port)],
        env={**os.environ, **env},
        stderr=stderr,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "no HTTP server"
                await anyio.sleep(0.1)
        async with Client(f"http://127.0.0.1:{port}/mcp", read_timeout_seconds=30) as client:
            yield client
    finally:
        process.terminate()
        process.wait(timeout=10)
        stderr.close()


class RawStdio:
    """The server module over stdio, spoken to in raw JSON-RPC lines: what a client that writes
    exactly these bytes (or dies) does, with the time each answer arrived."""

    def __init__(self, sfn: FakeSfn, tmp_path: Path) -> None:
        command, env = server_command(sfn, tmp_path)
        self.stderr_path = tmp_path / "server.stderr"
        self.stderr = self.stderr_path.open("w")
        self.process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        self.answers: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.answered: dict[Any, tuple[float, dict[str, Any]]] = {}
        self.reading = True
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.send(
            {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"}}}
        )  # fmt: skip
        self.answer(0)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def _read(self) -> None:
        # select with a timeout, not a blocking read: die() must be able to stop the reading
        # and close the pipe while the server is still running, as a killed client does.
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        pending = b""
        while self.reading:
            if not select.select([fd], [], [], 0.05)[0]:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                self.answers.put((time.monotonic(), json.loads(line)))

    def send(self, message: dict[str, Any] | bytes) -> float:
        """Write one message (or a line already made); the time its last byte was written."""
        assert self.process.stdin is not None
        line = message if isinstance(message, bytes) else json.dumps(message).encode()
        self.process.stdin.write(line + b"\n")
        self.process.stdin.flush()
        return time.monotonic()

    def answer(self, request_id: int, timeout: float = 30) -> tuple[float, dict[str, Any]]:
        """The answer to ``request_id`` and when it arrived (notifications are skipped)."""
        deadline = time.monotonic() + timeout
        while request_id not in self.answered:
            arrived, message = self.answers.get(timeout=max(deadline - time.monotonic(), 0.01))
            if "id" in message:
                self.answered[message["id"]] = (arrived, message)
        return self.answered[request_id]

    def die(self) -> None:
        """What the kernel does when the client is killed: its ends of the pipes close."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.reading = False
        self.reader.join()
        self.process.stdout.close()
        self.process.stdin.close()

    def close(self) -> str:
        """Stop the server if it is still running; everything it wrote to stderr."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.reading = False
        self.reader.join()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()
        self.stderr.close()
        return self.stderr_path.read_text()


@pytest.fixture
def raw_stdio(sfn: FakeSfn, tmp_path: Path) -> Iterator[RawStdio]:
    raw = RawStdio(sfn, tmp_path)
    try:
        yield raw
    finally:
        raw.close()


def call(request_id: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
            "params": {"name": name, "arguments": arguments}}  # fmt: skip


# --------------------------------------------------------------------------- 1. unsendable output

SURROGATES = '{"text": "a\\ud800b", "\\udc00": 1}'  # valid JSON: lone surrogate escapes


def has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def assert_sent_escaped(result: Any) -> None:
    """The text is UTF-8 with the output's escapes kept as JSON, one line says why, and the
    structured output has U+FFFD where the surrogates were."""
    text = text_of(result)
    assert not has_surrogate(text)
    text.encode("utf-8")
    body, _, note = text.rpartition("\n")
    assert "cannot be sent as they are" in note
    assert json.loads(body)["output"] == json.loads(SURROGATES)  # the escapes, exactly
    assert result.structured_content["output"] == {"text": "a\ufffdb", "\ufffd": 1}


def quick_outputs(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """An EXPRESS run whose output is what the input's ``case`` asks for."""
    case = json.loads(body["input"]).get("case")
    output = {"surrogates": SURROGATES, "deep": "[" * 300 + "]" * 300}.get(case, "{}")
    return 200, {"executionArn": "arn:e", "status": "SUCCEEDED", "output": output, "startDate": 0}


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_an_output_no_utf8_can_carry_reaches_the_client_and_the_server_survives(
    sfn: FakeSfn, tmp_path: Path, transport: str
) -> None:
    polls: list[str] = []

    def describe(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        polls.append(body["executionArn"])
        return described(body, "SUCCEEDED" if len(polls) > 4 else "RUNNING", output='"done"')

    sfn.routes["StartSyncExecution"] = quick_outputs
    sfn.routes["StartExecution"] = lambda body: (
        200,
        {"executionArn": STANDARD_ARN + body["name"], "startDate": 0},
    )
    sfn.routes["DescribeExecution"] = describe
    results: dict[str, Any] = {}
    async with served(sfn, tmp_path, transport) as client:

        async def run(name: str, tool: str, arguments: dict[str, Any]) -> None:
            results[name] = await client.call_tool(tool, arguments)

        async with anyio.create_task_group() as group:
            group.start_soon(run, "in flight", "slow", {})
            while not polls:  # the STANDARD call is polling when the bad output comes back
                await anyio.sleep(0.05)
            group.start_soon(run, "surrogates", "quick", {"case": "surrogates"})
            group.start_soon(run, "deep", "quick", {"case": "deep"})
        listed = await client.list_tools()
    assert not results["in flight"].is_error, text_of(results["in flight"])
    assert results["in flight"].structured_content["output"] == "done"
    assert not results["surrogates"].is_error
    assert_sent_escaped(results["surrogates"])
    deep = results["deep"]
    assert not deep.is_error, text_of(deep)
    assert deep.structured_content["output"] == "[" * 300 + "]" * 300  # as its JSON text
    assert "nested more than 128 levels deep" in text_of(deep).partition("\n")[0]
    assert {tool.name for tool in listed.tools} == {"quick", "slow", "tags", "get_execution"}


async def test_unsendable_characters_are_escaped_in_memory_too(sfn: FakeSfn) -> None:
    answers = iter([
        {"status": "SUCCEEDED", "output": SURROGATES},
        {"status": "FAILED", "error": "Bad\ud800", "cause": "cause \udfff here"},
    ])  # fmt: skip
    sfn.routes["StartSyncExecution"] = lambda body: (
        200,
        {"executionArn": "arn:e", "startDate": 0, **next(answers)},
    )
    async with Client(server_with(EXPRESS)) as client:
        result = await client.call_tool("orders", GOOD)
        failed = await client.call_tool("orders", GOOD)
    assert_sent_escaped(result)
    assert failed.is_error
    text = text_of(failed)
    assert not has_surrogate(text)
    assert text.startswith(
        "orders: the execution ended FAILED with error Bad\\ud800: cause \\udfff here"
    )
    assert failed.structured_content is not None
    assert failed.structured_content["error"] == "Bad\ufffd"
    assert failed.structured_content["cause"] == "cause \ufffd here"
    assert "cannot be sent as they are" in text.rpartition("\n")[2]


async def test_a_typed_output_with_unsendable_characters_is_checked_as_sent(sfn: FakeSfn) -> None:
    class Receipt(BaseModel):
        note: str

    sfn.routes["StartSyncExecution"] = lambda body: (
        200,
        {"executionArn": "arn:e", "status": "SUCCEEDED", "output": '{"note": "\\ud83d"}'},
    )
    async with Client(server_with(EXPRESS, output_model=Receipt)) as client:
        result = await client.call_tool("orders", GOOD)
    assert not result.is_error, text_of(result)  # a surrogate is no schema mismatch
    assert result.structured_content["output"] == {"note": "\ufffd"}


async def test_a_state_name_with_unsendable_characters_still_reports_progress(
    sfn: FakeSfn,
) -> None:
    polls = iter(["RUNNING", "SUCCEEDED"])
    sfn.routes["StartExecution"] = lambda body: (
        200,
        {"executionArn": STANDARD_ARN + body["name"], "startDate": 0},
    )
    sfn.routes["DescribeExecution"] = lambda body: described(body, next(polls), output="1")
    sfn.routes["GetExecutionHistory"] = lambda body: (
        200,
        {"events": [{"id": 1, "type": "PassStateEntered", "timestamp": 0,
                     "stateEnteredEventDetails": {"name": "Odd\udbff"}}]},
    )  # fmt: skip
    seen: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    workflow = Workflow("slow", ARN + "slow", "STANDARD", max_wait_seconds=30)
    async with Client(server_with(workflow), mode="legacy") as client:
        result = await client.call_tool("orders", GOOD, progress_callback=on_progress)
    assert not result.is_error, text_of(result)
    assert seen and "in state Odd\\udbff" in str(seen[0])


# --------------------------------------------------------------------------- 2. garbage answers


ARN_OF = STANDARD_ARN  # an execution of slow, but for its name


def started_name(sfn: FakeSfn) -> str:
    """The execution name the (first) StartExecution sent."""
    return str(next(body["name"] for action, body, _ in sfn.requests if action == "StartExecution"))


GARBAGE = [b"", b"<html>proxy error</html>", b"{}", b'{"status": "SOMETIMES"}']


@pytest.mark.parametrize("body", GARBAGE, ids=["empty", "html", "{}", "unknown-status"])
async def test_a_garbage_describe_is_an_error_not_running(sfn: FakeSfn, body: bytes) -> None:
    sfn.routes["StartExecution"] = lambda request: (
        200,
        {"executionArn": STANDARD_ARN + request["name"], "startDate": 0},
    )
    sfn.routes["DescribeExecution"] = lambda request: (200, body)
    async with Client(server_with(SLOW)) as client:
        result = await client.call_tool("orders", GOOD)
        followed = await client.call_tool("get_execution", {"execution_arn": STANDARD_ARN + "x"})
    assert result.is_error and result.structured_content is None
    text = text_of(result)
    name = started_name(sfn)
    about = f"DescribeExecution on slow answered without a known execution status for {ARN_OF}"
    assert f"{about}{name}" in text
    assert "may still be running" in text and "RUNNING" not in text
    assert sfn.actions().count("DescribeExecution") == 2  # not polled on as if RUNNING
    assert followed.is_error
    assert f"{about}x" in text_of(followed)


@pytest.mark.parametrize(
    "body",
    [*GARBAGE, b'{"status": "RUNNING", "executionArn": "arn:e"}'],
    ids=["empty", "html", "{}", "unknown-status", "running"],
)
async def test_a_garbage_start_sync_is_an_error_not_a_status(sfn: FakeSfn, body: bytes) -> None:
    sfn.routes["StartSyncExecution"] = lambda request: (200, body)
    async with Client(server_with(EXPRESS)) as client:
        result = await client.call_tool("orders", GOOD)
    assert result.is_error and result.structured_content is None
    text = text_of(result)
    assert "StartSyncExecution on quick answered without a known execution status" in text
    assert "may have run (once at most: it was not retried)" in text
    assert sfn.actions() == ["StartSyncExecution"]


@pytest.mark.parametrize("key", [None, "order-7"])
@pytest.mark.parametrize("body", [b"", b"{}", b'{"executionArn": 7}'])
async def test_a_start_without_an_execution_arn_is_an_error(
    sfn: FakeSfn, body: bytes, key: str | None
) -> None:
    sfn.routes["StartExecution"] = lambda request: (200, body)
    sfn.routes["DescribeExecution"] = lambda request: (
        400,
        {"__type": "ExecutionDoesNotExist", "message": "no such execution"},
    )
    arguments = {**GOOD, "idempotency_key": key} if key else GOOD
    async with Client(server_with(SLOW)) as client:
        result = await client.call_tool("orders", arguments)
    assert result.is_error
    text = text_of(result)
    assert "StartExecution on slow answered without an executionArn" in text
    name = started_name(sfn)
    assert f"may have started as {STANDARD_ARN}{name}" in text
    if key:
        assert "Calling again with the same idempotency_key is safe" in text
    else:
        assert "without an idempotency_key could start a second execution" in text
    assert sfn.actions()[-1] == "StartExecution"  # nothing polled


async def test_a_garbage_idempotency_lookup_is_not_another_input(sfn: FakeSfn) -> None:
    sfn.routes["DescribeExecution"] = lambda request: (200, b"{}")
    async with Client(server_with(SLOW)) as client:
        result = await client.call_tool("orders", {**GOOD, "idempotency_key": "order-8"})
    assert result.is_error
    assert "DescribeExecution on slow answered without a known execution status" in text_of(result)
    assert "already used" not in text_of(result)
    assert sfn.actions() == ["DescribeExecution"]


# --------------------------------------------------------------------------- 3. huge arguments

MILLION = list(range(1_000_000))


def test_a_million_items_are_refused_by_size_at_once() -> None:
    started = time.monotonic()
    size, deep = validation.measure({"tags": MILLION}, execution.MAX_INPUT_BYTES, 64)
    assert size > execution.MAX_INPUT_BYTES and deep is None
    assert time.monotonic() - started < 0.05
    # a lower bound: never more than the real size
    for value in ({"a": [1, "xé", None, True, 2.5, {"b": []}]}, {}, {"n": 10**40}):
        compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        assert validation.measure(value, 10**9, 64)[0] <= len(compact.encode())


async def test_a_million_item_array_is_refused_quickly_and_the_loop_keeps_serving(
    raw_stdio: RawStdio,
) -> None:
    big = json.dumps(call(1, "tags", {"tags": MILLION})).encode()
    raw_stdio.send(big)
    asked = raw_stdio.send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    listed_at, listed = raw_stdio.answer(2)
    refused_at, refused = raw_stdio.answer(1)
    assert listed_at - asked < 1.0, f"tools/list waited {listed_at - asked:.2f} s"
    assert len(listed["result"]["tools"]) == 4
    result = refused["result"]
    assert result["isError"]
    text = result["content"][0]["text"]
    assert len(text) < 300, text[:300]
    assert "more than 262144 bytes as JSON; Step Functions accepts at most 262144" in text
    assert refused_at - asked < 2.0


def tags_server() -> Any:
    schema = {"type": "object", "properties": {
        "tags": {"type": "array", "items": {"type": "string", "pattern": "^t-"}},
        "tree": {"type": "array"},
    }}  # fmt: skip

    async def run(arguments: BaseModel) -> definitions.ExecutionResult:
        return definitions.ExecutionResult(status="SUCCEEDED")

    tool = Tool(name="tags", title="T", description="d", workflow=EXPRESS,
                input_model=FreeFormInput, run=run, schema=schema)  # fmt: skip
    return build_server("s", version="1", instructions="i", tools=(tool,))


async def test_huge_arguments_get_short_messages(sfn: FakeSfn) -> None:
    huge = "x" * 13_000_000
    async with Client(tags_server()) as client:
        started = time.monotonic()
        million = await client.call_tool("tags", {"tags": MILLION})
        elapsed = time.monotonic() - started
        arn = await client.call_tool("get_execution", {"execution_arn": huge})
        long_arn = await client.call_tool("get_execution", {"execution_arn": "y" * 100_000})
        name = await client.call_tool(huge, {})
    assert elapsed < 2.0
    for result in (million, arn, long_arn, name):
        assert result.is_error and len(text_of(result)) < 600, text_of(result)[:600]
    assert "- (arguments): the arguments are more than 262144 bytes" in text_of(million)
    assert "at most 262144" in text_of(arn)
    assert "refused: 'yyyyyyyy" in text_of(long_arn) and "(100000 characters)" in text_of(long_arn)
    assert "Unknown tool 'xxxx" in text_of(name)
    assert sfn.requests == []


async def test_large_arguments_are_checked_on_a_worker_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[str] = []
    checked = validation._checked

    def recording(tool: Tool[Any], arguments: dict[str, Any]) -> Any:
        threads.append(threading.current_thread().name)
        return checked(tool, arguments)

    monkeypatch.setattr(validation, "_checked", recording)
    async with Client(tags_server()) as client:
        small = await client.call_tool("tags", {"tags": ["t-1"]})
        large = await client.call_tool("tags", {"tags": [f"t-{n}" for n in range(20_000)]})
        wrong = await client.call_tool("tags", {"tags": [f"t-{n}" for n in range(20_000)] + ["u"]})
    assert not small.is_error and not large.is_error
    assert wrong.is_error and "- tags.20000: String should match pattern '^t-'" in text_of(wrong)
    assert threads[0] == threading.current_thread().name  # small: on the event loop
    assert threads[1] != threads[0] and threads[2] != threads[0]


# --------------------------------------------------------------------------- 4. deep arguments


async def test_deeply_nested_arguments_are_refused_naming_the_field() -> None:
    deep: Any = []
    for _ in range(100):
        deep = [deep]
    async with Client(tags_server()) as client:
        unclosed = await client.call_tool("tags", {"tree": "[" * 100_000})
        decodable = await client.call_tool("tags", {"tree": "[" * 100 + "]" * 100})
        nested = await client.call_tool("tags", {"tree": deep})
        fits = await client.call_tool("tags", {"tree": "[" * 60 + "]" * 60})
    assert unclosed.is_error and "- tree: Input should be a valid list" in text_of(unclosed)
    for result in (decodable, nested):
        assert result.is_error
        assert "- tree: Input is nested too deeply: the arguments nest at most 64 levels" in (
            text_of(result)
        )
    assert not fits.is_error, text_of(fits)


async def test_a_recursion_error_while_checking_is_a_tool_error_not_a_protocol_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def exhausted(error: Any) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(validation, "_described", exhausted)
    async with Client(tags_server()) as client:
        try:
            result = await client.call_tool("tags", {"tags": "[" * 50})
        except MCPError as exc:  # what it was: a JSON-RPC error with code 0
            pytest.fail(f"a protocol error, code {exc.error.code}: {exc}")
    assert result.is_error
    assert "- tags: Input is nested too deeply to check" in text_of(result)


# --------------------------------------------------------------------------- 5. resets


async def test_a_reset_after_start_sync_says_it_may_have_run(sfn: FakeSfn) -> None:
    sfn.routes["StartSyncExecution"] = lambda body: (RESET, {})
    async with Client(server_with(EXPRESS)) as client:
        result = await client.call_tool("orders", GOOD)
    assert result.is_error
    text = text_of(result)
    assert "StartSyncExecution on quick failed: ConnectionClosedError" in text
    assert "the execution may have started" in text
    assert "may have run (once at most: it was not retried)" in text
    assert "credentials" not in text
    assert sfn.actions() == ["StartSyncExecution"]


@pytest.mark.parametrize("key", [None, "order-9"])
async def test_a_reset_after_start_execution_says_it_may_have_started(
    sfn: FakeSfn, key: str | None
) -> None:
    sfn.routes["StartExecution"] = lambda body: (RESET, {})
    sfn.routes["DescribeExecution"] = lambda body: (
        400,
        {"__type": "ExecutionDoesNotExist", "message": "no such execution"},
    )
    arguments = {**GOOD, "idempotency_key": key} if key else GOOD
    async with Client(server_with(SLOW)) as client:
        result = await client.call_tool("orders", arguments)
    assert result.is_error
    text = text_of(result)
    name = started_name(sfn)
    assert "StartExecution on slow failed: ConnectionClosedError" in text
    assert f"may have started as {STANDARD_ARN}{name}" in text
    assert "credentials" not in text
    if key:
        assert "Calling again with the same idempotency_key is safe" in text
    else:
        assert "Check it with get_execution before calling again" in text
        assert "without an idempotency_key could start a second execution" in text


async def test_no_connection_at_all_says_nothing_started(
    sfn: FakeSfn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    async with Client(server_with(EXPRESS)) as client:
        result = await client.call_tool("orders", GOOD)
    assert result.is_error
    text = text_of(result)
    assert "EndpointConnectionError" in text and "nothing was started" in text
    assert "may have" not in text


# --------------------------------------------------------------------------- 6. a client that dies


async def test_a_client_killed_during_a_stop_on_cancel_call_leaves_no_traceback(
    sfn: FakeSfn, raw_stdio: RawStdio
) -> None:
    sfn.routes["StartExecution"] = lambda body: (
        200,
        {"executionArn": STANDARD_ARN + body["name"], "startDate": 0},
    )
    sfn.routes["DescribeExecution"] = lambda body: described(body, "RUNNING")
    sfn.routes["StopExecution"] = lambda body: (time.sleep(1) or 200, {"stopDate": 0})
    raw_stdio.send(call(1, "slow", {}))
    deadline = time.monotonic() + 20
    while "DescribeExecution" not in sfn.actions():
        assert time.monotonic() < deadline
        await anyio.sleep(0.05)
    raw_stdio.die()
    status = await anyio.to_thread.run_sync(lambda: raw_stdio.process.wait(timeout=30))
    stderr = raw_stdio.close()
    assert "Traceback" not in stderr, stderr
    assert status == 0, stderr
    assert "StopExecution" in sfn.actions()  # the cancel still stopped what the call started
    assert "call cancelled; stopped" in stderr
    assert stderr.count("the connection ended with request 1 in flight; it ends unanswered") == 1


async def test_a_failing_stop_after_a_cancel_is_one_log_line(
    sfn: FakeSfn, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sfn.routes["StartExecution"] = lambda body: (
        200,
        {"executionArn": STANDARD_ARN + body["name"], "startDate": 0},
    )
    sfn.routes["DescribeExecution"] = lambda body: described(body, "RUNNING")
    call_aws = execution._call

    async def broken_stop(workflow: Workflow, purpose: Any, action: str, **kwargs: Any) -> Any:
        if action == "stop_execution":
            raise RuntimeError("cannot schedule new futures after interpreter shutdown")
        return await call_aws(workflow, purpose, action, **kwargs)

    monkeypatch.setattr(execution, "_call", broken_stop)
    workflow = Workflow("slow", ARN + "slow", "STANDARD", 60, stop_on_cancel=True)
    caplog.set_level(logging.INFO, "sfn_mcp.runtime")
    async with Client(server_with(workflow)) as client:
        with anyio.move_on_after(1.0):
            await client.call_tool("orders", GOOD)
    runtime = [record for record in caplog.records if record.name == "sfn_mcp.runtime"]
    assert [record.exc_info for record in runtime] == [None] * len(runtime)  # no traceback
    (line,) = [record.getMessage() for record in runtime if "could not stop" in record.getMessage()]
    assert "RuntimeError: 'cannot schedule new futures" in line


# --------------------------------------------------------------------------- idempotency keys


async def test_a_key_with_a_trailing_newline_is_refused_everywhere(sfn: FakeSfn) -> None:
    async with Client(server_with(SLOW)) as client:
        result = await client.call_tool("orders", {**GOOD, "idempotency_key": "key-1\n"})
    assert result.is_error and "idempotency_key: must be 1 to 80" in text_of(result)
    with pytest.raises(definitions.WorkflowError, match="is not usable as an execution name"):
        await run_workflow(SLOW, GOOD, idempotency_key="key-1\n")
    assert sfn.requests == []
