"""The shared runtime of generated servers, against a scripted Step Functions endpoint over HTTP.

The endpoint is a few lines of stdlib HTTP that answer each API action with a canned response and
record every request, so the tests can count exactly what the runtime sent (retries included).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from mcp import Client
from mcp.types import TextContent
from pydantic import BaseModel, ConfigDict, Field

from compiler import runtime
from compiler.runtime import Tool, Workflow, build_server, event_envelope, run_workflow

ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:"
Responder = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


class FakeSfn:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any], str]] = []
        self.routes: dict[str, Responder] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                action = self.headers["X-Amz-Target"].split(".")[-1]
                fake.requests.append((action, body, self.headers["Host"]))
                status, payload = fake.routes.get(action, lambda _: (400, {}))(body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                if status >= 400:
                    self.send_header("x-amzn-ErrorType", str(payload.get("__type", "")))
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def actions(self) -> list[str]:
        return [action for action, _, _ in self.requests]


@pytest.fixture
def sfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSfn]:
    fake = FakeSfn()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    for key in ("AWS_PROFILE", "AWS_DISABLE_HOST_PREFIX_INJECTION", "AWS_ENDPOINT_URL_SFN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", fake.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "5")  # must not make StartSyncExecution retry
    monkeypatch.setattr(runtime, "CLIENTS", runtime._Clients())
    yield fake
    fake.server.shutdown()


class Order(BaseModel):
    order_id: str = Field(alias="orderId", pattern="^ORD-[0-9]+$")
    quantity: int = Field(ge=1)


EXPRESS = Workflow("quick", ARN + "quick", "EXPRESS")
STANDARD = Workflow("slow", ARN + "slow", "STANDARD", max_wait_seconds=0.6)


def server_with(workflow: Workflow) -> Any:
    async def run(arguments: Order) -> runtime.ExecutionResult:
        return await run_workflow(workflow, runtime.workflow_input(arguments))

    tool = Tool(name="orders", title="Orders", description="d", input_model=Order, run=run)
    return build_server("test", version="1", instructions="i", tools=(tool,))


def text_of(result: Any) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


pytestmark = pytest.mark.anyio
GOOD = {"orderId": "ORD-1", "quantity": 2}


async def test_express_success_returns_parsed_output_as_data(sfn: FakeSfn) -> None:
    sfn.routes["StartSyncExecution"] = lambda body: (
        200,
        {
            "executionArn": "arn:exec:1",
            "status": "SUCCEEDED",
            "output": json.dumps({"echo": json.loads(body["input"])}),
            "startDate": 1700000000.0,
            "stopDate": 1700000001.5,
        },
    )
    async with Client(server_with(EXPRESS)) as client:
        result = await client.call_tool("orders", GOOD)
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["output"] == {"echo": GOOD}
    assert result.structured_content["status"] == "SUCCEEDED"
    assert result.structured_content["executionArn"] == "arn:exec:1"
    assert result.structured_content["stopDate"].startswith("2023-11-14T22:13:21.5")
    action, body, host = sfn.requests[0]
    assert body["stateMachineArn"] == EXPRESS.arn and body["name"]
    assert host.startswith("127.0.0.1:")  # no "sync-" host prefix with an endpoint override


async def test_express_is_never_retried_even_on_a_server_error(sfn: FakeSfn) -> None:
    sfn.routes["StartSyncExecution"] = lambda body: (
        500,
        {"__type": "ServiceUnavailable", "message": "try later"},
    )
    async with Client(server_with(EXPRESS)) as client:
        result = await client.call_tool("orders", GOOD)
    assert result.is_error
    assert "StartSyncExecution on quick failed: ServiceUnavailable" in text_of(result)
    assert sfn.actions() == ["StartSyncExecution"]  # one attempt despite AWS_MAX_ATTEMPTS=5


async def test_express_read_timeout_is_not_retried(
    sfn: FakeSfn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "EXPRESS_READ_TIMEOUT", 0.5)

    def slow(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        time.sleep(1.5)
        return 200, {"status": "SUCCEEDED", "executionArn": "x", "startDate": 0}

    sfn.routes["StartSyncExecution"] = slow
    async with Client(server_with(EXPRESS)) as client:
        result = await client.call_tool("orders", GOOD)
    assert result.is_error
    assert "not retried to avoid a duplicate" in text_of(result)
    assert sfn.actions() == ["StartSyncExecution"]


async def test_failed_execution_is_an_error_with_error_and_cause(sfn: FakeSfn) -> None:
    sfn.routes["StartSyncExecution"] = lambda body: (
        200,
        {
            "executionArn": "arn:exec:2",
            "status": "FAILED",
            "error": "OutOfStock",
            "cause": "SKU OOS-1 is out of stock",
            "startDate": 0,
        },
    )
    async with Client(server_with(EXPRESS)) as client:
        result = await client.call_tool("orders", GOOD)
    assert result.is_error
    text = text_of(result)
    assert text.startswith("orders: the execution ended FAILED with error OutOfStock: SKU OOS-1")
    assert result.structured_content is not None
    assert result.structured_content["cause"] == "SKU OOS-1 is out of stock"


async def test_aws_errors_carry_the_code_and_a_hint(sfn: FakeSfn) -> None:
    sfn.routes["StartExecution"] = lambda body: (
        400,
        {"__type": "AccessDeniedException", "message": "User x is not authorized"},
    )
    async with Client(server_with(STANDARD)) as client:
        result = await client.call_tool("orders", GOOD)
    assert result.is_error
    text = text_of(result)
    assert "StartExecution on slow failed: AccessDeniedException: User x is not authorized" in text
    assert "lack permission" in text


async def test_standard_polls_then_returns_the_result(sfn: FakeSfn) -> None:
    polls = iter(["RUNNING", "RUNNING", "SUCCEEDED"])
    sfn.routes["StartExecution"] = lambda body: (
        200,
        {"executionArn": "arn:exec:3", "startDate": 0},
    )
    sfn.routes["DescribeExecution"] = lambda body: (
        200,
        {"executionArn": body["executionArn"], "status": next(polls), "output": "[1, 2]",
         "startDate": 0},
    )  # fmt: skip
    workflow = Workflow("slow", ARN + "slow", "STANDARD", max_wait_seconds=30)
    async with Client(server_with(workflow)) as client:
        result = await client.call_tool("orders", GOOD)
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["output"] == [1, 2]
    assert sfn.actions() == ["StartExecution"] + ["DescribeExecution"] * 3


async def test_standard_returns_running_with_the_arn_after_the_bounded_wait(
    sfn: FakeSfn,
) -> None:
    sfn.routes["StartExecution"] = lambda body: (
        200,
        {"executionArn": "arn:exec:4", "startDate": 0},
    )
    sfn.routes["DescribeExecution"] = lambda body: (
        200,
        {"executionArn": "arn:exec:4", "status": "RUNNING", "startDate": 0},
    )
    started = time.monotonic()
    async with Client(server_with(STANDARD)) as client:
        result = await client.call_tool("orders", GOOD)
    assert time.monotonic() - started < 5
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["status"] == "RUNNING"
    assert result.structured_content["executionArn"] == "arn:exec:4"
    assert "still running after 0.6 s" in text_of(result)


async def test_invalid_arguments_never_reach_aws(sfn: FakeSfn) -> None:
    async with Client(server_with(EXPRESS)) as client:
        result = await client.call_tool("orders", {"orderId": "nope", "quantity": 0})
    assert result.is_error
    assert "- orderId: String should match pattern" in text_of(result)
    assert "- quantity: Input should be greater than or equal to 1" in text_of(result)
    assert sfn.requests == []


async def test_oversized_input_is_refused_before_any_call(sfn: FakeSfn) -> None:
    with pytest.raises(runtime.WorkflowError, match="at most 262144 bytes"):
        await run_workflow(EXPRESS, {"blob": "x" * 300_000})
    assert sfn.requests == []


def test_event_envelope_is_what_eventbridge_would_deliver() -> None:
    event = event_envelope(
        Order.model_validate(GOOD), workflow=EXPRESS, source="com.shop", detail_type="OrderPlaced"
    )
    assert event["detail"] == GOOD
    assert (event["source"], event["detail-type"]) == ("com.shop", "OrderPlaced")
    assert (event["account"], event["region"], event["version"]) == (
        "123456789012",
        "eu-west-1",
        "0",
    )
    assert event["resources"] == []
    datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")


def test_max_wait_can_be_overridden_by_environment() -> None:
    assert runtime.max_wait_seconds(STANDARD, {"SFN_MCP_MAX_WAIT_SECONDS": "3"}) == 3
    assert runtime.max_wait_seconds(STANDARD, {"SFN_MCP_MAX_WAIT_SECONDS": "soon"}) == 0.6
    assert runtime.max_wait_seconds(STANDARD, {}) == 0.6


async def test_a_bug_in_a_tool_is_an_error_result_not_a_dropped_call() -> None:
    async def broken(arguments: Order) -> runtime.ExecutionResult:
        raise KeyError("oops")

    tool = Tool(name="orders", title="Orders", description="d", input_model=Order, run=broken)
    server = build_server("test", version="1", instructions="i", tools=(tool,))
    async with Client(server) as client:
        result = await client.call_tool("orders", GOOD)
        assert result.is_error
        assert "internal error in the server: KeyError" in text_of(result)
        unknown = await client.call_tool("nope", {})
        assert unknown.is_error and "Unknown tool 'nope'. Tools: orders" in text_of(unknown)


async def test_a_failed_poll_still_tells_the_execution_arn(sfn: FakeSfn) -> None:
    sfn.routes["StartExecution"] = lambda body: (
        200,
        {"executionArn": "arn:exec:9", "startDate": 0},
    )
    sfn.routes["DescribeExecution"] = lambda body: (
        400,
        {"__type": "AccessDeniedException", "message": "no describe for you"},
    )
    async with Client(server_with(STANDARD)) as client:
        result = await client.call_tool("orders", GOOD)
    assert result.is_error
    assert "DescribeExecution on slow failed: AccessDeniedException" in text_of(result)
    assert "may still be running: arn:exec:9" in text_of(result)


class Note(BaseModel):
    note: str | None = None
    tags: list[str] = []


async def test_json_looking_strings_stay_strings_where_they_validate(sfn: FakeSfn) -> None:
    seen: list[Note] = []

    async def run(arguments: Note) -> runtime.ExecutionResult:
        seen.append(arguments)
        return runtime.ExecutionResult(status="SUCCEEDED")

    tool = Tool(name="notes", title="Notes", description="d", input_model=Note, run=run)
    server = build_server("test", version="1", instructions="i", tools=(tool,))
    async with Client(server) as client:
        await client.call_tool("notes", {"note": "[1, 2]", "tags": '["a", "b"]'})
    assert seen[0].note == "[1, 2]"  # valid as sent, so not decoded
    assert seen[0].tags == ["a", "b"]  # JSON text where an array is required: decoded


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gift_message: str = Field(default="", alias="giftMessage")
    lines: list[Order] = []


async def test_validation_errors_name_unknown_fields_and_stay_short(sfn: FakeSfn) -> None:
    async def run(arguments: Strict) -> runtime.ExecutionResult:
        return runtime.ExecutionResult(status="SUCCEEDED")

    tool = Tool(name="strict", title="S", description="d", input_model=Strict, run=run)
    server = build_server("test", version="1", instructions="i", tools=(tool,))
    async with Client(server) as client:
        typo = await client.call_tool("strict", {"giftmessage": "hi"})
        many = await client.call_tool("strict", {"lines": [{"orderId": "x"}] * 30})
        json_text = await client.call_tool(
            "strict", {"lines": json.dumps([{"orderId": "ORD-1", "quantity": 0}])}
        )
    assert typo.is_error
    assert "- giftmessage: Extra inputs are not permitted" in text_of(typo)
    assert "Arguments this tool takes: giftMessage, lines" in text_of(typo)
    assert text_of(many).count("\n- ") == 21 and "… and 40 more" in text_of(many)
    # the JSON text was decoded; the error is about the real problem inside it
    assert "- lines.0.quantity: Input should be greater than or equal to 1" in text_of(json_text)
