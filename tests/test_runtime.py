"""The shared runtime of generated servers, against a scripted Step Functions endpoint over HTTP.

The endpoint is a few lines of stdlib HTTP that answer each API action with a canned response and
record every request, so the tests can count exactly what the runtime sent (retries included).
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from pydantic import BaseModel, ConfigDict, Field, SecretStr

import sfn_mcp_runtime
from sfn_mcp_runtime import aws, definitions, execution, transport
from sfn_mcp_runtime.contract import (
    RUNTIME_PACKAGE,
    SERVER_MODULES,
    TOOLS_IMPORTS,
    definition_digest,
)
from sfn_mcp_runtime.definitions import ApprovalStep, Tool, Workflow
from sfn_mcp_runtime.execution import event_envelope, run_workflow
from sfn_mcp_runtime.server import build_server
from tests.fake_sfn import (
    ARN,
    EXPRESS,
    GOOD,
    STANDARD,
    STANDARD_ARN,
    FakeSfn,
    Order,
    described,
    server_with,
    text_of,
)

pytestmark = pytest.mark.anyio


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
    monkeypatch.setattr(aws, "EXPRESS_READ_TIMEOUT", 0.5)

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
    assert "RUNNING after 0.6 s; the execution goes on in AWS" in text_of(result)


async def test_invalid_arguments_never_reach_aws(sfn: FakeSfn) -> None:
    async with Client(server_with(EXPRESS)) as client:
        result = await client.call_tool("orders", {"orderId": "nope", "quantity": 0})
    assert result.is_error
    assert "- orderId: String should match pattern" in text_of(result)
    assert "- quantity: Input should be greater than or equal to 1" in text_of(result)
    assert sfn.requests == []


async def test_oversized_input_is_refused_before_any_call(sfn: FakeSfn) -> None:
    with pytest.raises(definitions.WorkflowError, match="at most 262144 bytes"):
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
    assert execution.max_wait_seconds(STANDARD, {"SFN_MCP_MAX_WAIT_SECONDS": "3"}) == 3
    assert execution.max_wait_seconds(STANDARD, {"SFN_MCP_MAX_WAIT_SECONDS": "soon"}) == 0.6
    assert execution.max_wait_seconds(STANDARD, {}) == 0.6


async def test_a_bug_in_a_tool_is_an_error_result_not_a_dropped_call() -> None:
    async def broken(arguments: Order) -> definitions.ExecutionResult:
        raise KeyError("oops")

    tool = Tool(
        name="orders", title="O", description="d", workflow=EXPRESS, input_model=Order, run=broken
    )
    server = build_server("test", version="1", instructions="i", tools=(tool,))
    async with Client(server) as client:
        result = await client.call_tool("orders", GOOD)
        assert result.is_error
        assert "internal error in the server: KeyError" in text_of(result)
        unknown = await client.call_tool("nope", {})
        assert unknown.is_error
        assert "Unknown tool 'nope'. Tools: get_execution, orders" in text_of(unknown)


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

    async def run(arguments: Note) -> definitions.ExecutionResult:
        seen.append(arguments)
        return definitions.ExecutionResult(status="SUCCEEDED")

    tool = Tool(
        name="notes", title="N", description="d", workflow=EXPRESS, input_model=Note, run=run
    )
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
    async def run(arguments: Strict) -> definitions.ExecutionResult:
        return definitions.ExecutionResult(status="SUCCEEDED")

    tool = Tool(
        name="strict", title="S", description="d", workflow=EXPRESS, input_model=Strict, run=run
    )
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


# --------------------------------------------------------------------------- issue 4 behaviours


async def test_tools_advertise_an_output_schema_and_annotations(sfn: FakeSfn) -> None:
    class Receipt(BaseModel):
        total: float

    async with Client(server_with(STANDARD, output_model=Receipt)) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    orders, status = listed["orders"], listed["get_execution"]
    assert orders.output_schema is not None
    output = orders.output_schema["properties"]["output"]["anyOf"][0]
    assert orders.output_schema["$defs"]["Receipt"]["properties"]["total"]["type"] == "number"
    assert output == {"$ref": "#/$defs/Receipt"}
    assert set(orders.output_schema["required"]) == set(definitions.RESULT_FIELDS)
    assert orders.input_schema["properties"]["idempotency_key"]["type"] == "string"
    assert orders.annotations is not None and orders.annotations.destructive_hint is True
    assert status.annotations is not None and status.annotations.read_only_hint is True
    assert status.input_schema["required"] == ["execution_arn"]


async def test_express_tools_take_no_idempotency_key(sfn: FakeSfn) -> None:
    async with Client(server_with(EXPRESS)) as client:
        orders = next(t for t in (await client.list_tools()).tools if t.name == "orders")
        result = await client.call_tool("orders", {**GOOD, "idempotency_key": "k-1"})
    assert "idempotency_key" not in orders.input_schema["properties"]
    assert result.is_error and "idempotency_key: Extra inputs are not permitted" in text_of(result)
    assert sfn.requests == []


async def test_the_idempotency_key_is_the_execution_name_and_a_retry_reuses_it(
    sfn: FakeSfn,
) -> None:
    started: list[dict[str, Any]] = []

    def start(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if started:  # the second start with the same name: AWS says it exists (when closed)
            return 400, {"__type": "ExecutionAlreadyExists", "message": "exists"}
        started.append(body)
        return 200, {"executionArn": STANDARD_ARN + body["name"], "startDate": 0}

    def describe(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not started:
            return 400, {"__type": "ExecutionDoesNotExist", "message": "no such execution"}
        return described(body, "SUCCEEDED", input=started[0]["input"], output='{"ok": true}')

    sfn.routes["StartExecution"] = start
    sfn.routes["DescribeExecution"] = describe
    async with Client(server_with(STANDARD)) as client:
        first = await client.call_tool("orders", {**GOOD, "idempotency_key": "order-1"})
        again = await client.call_tool("orders", {**GOOD, "idempotency_key": "order-1"})
        other = await client.call_tool(
            "orders", {**GOOD, "quantity": 3, "idempotency_key": "order-1"}
        )
    assert started[0]["name"] == "order-1"
    assert json.loads(started[0]["input"]) == GOOD  # the key is not part of the workflow input
    assert not first.is_error and not again.is_error
    assert first.structured_content == again.structured_content
    assert "no new one was started" in text_of(again)
    assert other.is_error
    assert "'order-1' was already used for an execution of slow with other arguments" in text_of(
        other
    )
    # looked up before starting: only the first call sent StartExecution
    assert sfn.actions().count("StartExecution") == 1 and len(started) == 1


async def test_a_bad_idempotency_key_is_refused_before_any_call(sfn: FakeSfn) -> None:
    async with Client(server_with(STANDARD)) as client:
        result = await client.call_tool("orders", {**GOOD, "idempotency_key": "no spaces"})
    assert result.is_error and "idempotency_key: must be 1 to 80" in text_of(result)
    assert sfn.requests == []


async def test_get_execution_reads_own_executions_and_refuses_others(sfn: FakeSfn) -> None:
    sfn.routes["DescribeExecution"] = lambda body: described(body, "SUCCEEDED", output="42")
    foreign = "arn:aws:states:eu-west-1:123456789012:execution:someone-elses:run-1"
    async with Client(server_with(STANDARD)) as client:
        mine = await client.call_tool("get_execution", {"execution_arn": STANDARD_ARN + "run-1"})
        refused = await client.call_tool("get_execution", {"execution_arn": foreign})
        garbage = await client.call_tool("get_execution", {"execution_arn": "not an arn"})
    assert not mine.is_error
    assert mine.structured_content is not None and mine.structured_content["output"] == 42
    assert refused.is_error and "is not an execution of this server's" in text_of(refused)
    assert garbage.is_error
    assert sfn.actions() == ["DescribeExecution"]  # the refused ARNs were never looked up


async def test_output_that_breaks_the_output_schema_is_an_error(sfn: FakeSfn) -> None:
    class Receipt(BaseModel):
        total: float

    outputs = iter(['{"total": "12.5"}', '{"total": 12.5, "extra": 1}'])
    sfn.routes["StartSyncExecution"] = lambda body: (
        200,
        {"executionArn": "arn:e", "status": "SUCCEEDED", "output": next(outputs), "startDate": 0},
    )
    async with Client(server_with(EXPRESS, output_model=Receipt)) as client:
        wrong = await client.call_tool("orders", GOOD)
        right = await client.call_tool("orders", GOOD)
    assert wrong.is_error
    assert "does not match the output schema (Receipt)" in text_of(wrong)
    assert "- total: Input should be a valid number" in text_of(wrong)
    assert not right.is_error  # an extra field is not a contract break


async def test_progress_reports_the_current_state_while_polling(sfn: FakeSfn) -> None:
    polls = iter(["RUNNING", "RUNNING", "RUNNING", "SUCCEEDED"])
    sfn.routes["StartExecution"] = lambda body: (
        200,
        {"executionArn": STANDARD_ARN + body["name"], "startDate": 0},
    )
    sfn.routes["DescribeExecution"] = lambda body: described(body, next(polls), output="1")
    sfn.routes["GetExecutionHistory"] = lambda body: (
        200,
        {"events": [
            {"id": 3, "type": "WaitStateEntered", "timestamp": 0,
             "stateEnteredEventDetails": {"name": "WaitForPayment"}},
        ]},
    )  # fmt: skip
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    workflow = Workflow("slow", ARN + "slow", "STANDARD", max_wait_seconds=30)
    # legacy: real JSON-RPC with a progress token, as stdio and HTTP clients send it
    async with Client(server_with(workflow), mode="legacy") as client:
        result = await client.call_tool("orders", GOOD, progress_callback=on_progress)
    assert not result.is_error
    assert len(seen) == 3
    assert [p for p, _, _ in seen] == sorted({p for p, _, _ in seen})  # strictly increasing
    assert all(total == 30 for _, total, _ in seen)
    assert "slow: RUNNING in state WaitForPayment" in str(seen[0][2])


async def test_a_workflow_with_approval_steps_reads_its_history_once_per_poll(
    sfn: FakeSfn,
) -> None:
    """The read that finds the step it waits at names the state for progress too."""
    polls = iter(["RUNNING", "RUNNING", "RUNNING", "SUCCEEDED"])
    sfn.routes["StartExecution"] = lambda body: (
        200,
        {"executionArn": STANDARD_ARN + body["name"], "startDate": 0},
    )
    sfn.routes["DescribeExecution"] = lambda body: described(body, next(polls), output="1")
    sfn.routes["GetExecutionHistory"] = lambda body: (
        200,
        {"events": [
            {"id": 3, "type": "WaitStateEntered", "timestamp": 0,
             "stateEnteredEventDetails": {"name": "Cooling"}},
        ]},
    )  # fmt: skip
    seen: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    step = ApprovalStep(state="Approve", question="Refund it?", token_path=("Payload", "token"))
    workflow = Workflow(
        "slow", ARN + "slow", "STANDARD", max_wait_seconds=30, approval_steps=(step,)
    )
    async with Client(server_with(workflow), mode="legacy") as client:
        result = await client.call_tool("orders", GOOD, progress_callback=on_progress)
    assert not result.is_error
    assert len(seen) == 3 and "in state Cooling" in str(seen[0])
    assert sfn.actions().count("GetExecutionHistory") == 3  # one per RUNNING poll, not two


async def test_no_history_calls_without_a_progress_token(sfn: FakeSfn) -> None:
    polls = iter(["RUNNING", "SUCCEEDED"])
    sfn.routes["StartExecution"] = lambda body: (200, {"executionArn": "arn:x", "startDate": 0})
    sfn.routes["DescribeExecution"] = lambda body: described(body, next(polls), output="1")
    workflow = Workflow("slow", ARN + "slow", "STANDARD", max_wait_seconds=30)
    async with Client(server_with(workflow)) as client:
        await client.call_tool("orders", GOOD)
    assert "GetExecutionHistory" not in sfn.actions()


@pytest.mark.parametrize("stop_on_cancel", [False, True])
async def test_a_cancelled_call_stops_polling_and_stops_the_execution_if_configured(
    sfn: FakeSfn, stop_on_cancel: bool
) -> None:
    import anyio

    sfn.routes["StartExecution"] = lambda body: (
        200,
        {"executionArn": STANDARD_ARN + body["name"], "startDate": 0},
    )
    sfn.routes["DescribeExecution"] = lambda body: described(body, "RUNNING")
    sfn.routes["StopExecution"] = lambda body: (200, {"stopDate": 0})
    workflow = Workflow("slow", ARN + "slow", "STANDARD", 60, stop_on_cancel=stop_on_cancel)
    async with Client(server_with(workflow)) as client:
        with anyio.move_on_after(1.0):
            await client.call_tool("orders", GOOD)
        polls = sfn.actions().count("DescribeExecution")
        await anyio.sleep(1.5)
        assert sfn.actions().count("DescribeExecution") == polls  # polling stopped
    stops = [body for action, body, _ in sfn.requests if action == "StopExecution"]
    if stop_on_cancel:
        assert len(stops) == 1 and stops[0]["error"] == "sfn-mcp.Cancelled"
    else:
        assert stops == []


async def test_get_execution_takes_no_idempotency_key(sfn: FakeSfn) -> None:
    async with Client(server_with(STANDARD)) as client:
        status = next(t for t in (await client.list_tools()).tools if t.name == "get_execution")
        result = await client.call_tool(
            "get_execution", {"execution_arn": STANDARD_ARN + "x", "idempotency_key": "k"}
        )
    assert "idempotency_key" not in status.input_schema["properties"]
    assert result.is_error and "idempotency_key: Extra inputs are not permitted" in text_of(result)
    assert sfn.requests == []


async def test_get_execution_of_a_missing_execution_does_not_claim_it_was_started(
    sfn: FakeSfn,
) -> None:
    sfn.routes["DescribeExecution"] = lambda body: (
        400,
        {"__type": "ExecutionDoesNotExist", "message": "Execution Does Not Exist"},
    )
    async with Client(server_with(STANDARD)) as client:
        result = await client.call_tool("get_execution", {"execution_arn": STANDARD_ARN + "nope"})
    assert result.is_error and "ExecutionDoesNotExist" in text_of(result)
    assert "was started" not in text_of(result)


def test_same_input_compares_json_not_python_equality() -> None:
    assert execution._same_input('{"flag": 1}', {"flag": 1})
    assert not execution._same_input('{"flag": 1}', {"flag": True})
    # only an envelope this server built ignores id and time
    assert not execution._same_input('{"id": "a", "x": 1}', {"id": "b", "x": 1})


async def test_a_cancel_during_a_slow_start_still_stops_the_execution(sfn: FakeSfn) -> None:
    import anyio

    started: list[str] = []

    def slow_start(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        time.sleep(1.0)
        started.append(body["name"])
        return 200, {"executionArn": STANDARD_ARN + body["name"], "startDate": 0}

    def stop(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not started:
            return 400, {"__type": "ExecutionDoesNotExist", "message": "not yet"}
        return 200, {"stopDate": 0}

    sfn.routes["StartExecution"] = slow_start
    sfn.routes["StopExecution"] = stop
    workflow = Workflow("slow", ARN + "slow", "STANDARD", 60, stop_on_cancel=True)
    async with Client(server_with(workflow)) as client:
        with anyio.move_on_after(0.3):
            await client.call_tool("orders", GOOD)
        await anyio.sleep(2.5)
    stops = [action for action in sfn.actions() if action == "StopExecution"]
    assert started and len(stops) >= 2  # retried until the start had landed
    assert sfn.requests[-1][0] == "StopExecution"


async def test_progress_never_passes_its_total(sfn: FakeSfn) -> None:
    sfn.routes["StartExecution"] = lambda body: (200, {"executionArn": "arn:y", "startDate": 0})
    sfn.routes["DescribeExecution"] = lambda body: described(body, "RUNNING")
    sfn.routes["GetExecutionHistory"] = lambda body: (200, {"events": []})
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with Client(server_with(STANDARD), mode="legacy") as client:
        await client.call_tool("orders", GOOD, progress_callback=on_progress)
    assert seen and all(total is not None and p <= total for p, total in seen)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--port", "8123"],
            "--host, --port, --stateless, --allowed-host and --allowed-origin need "
            "--transport http",
        ),
        (["--transport", "http", "--port", "99999"], "is not a port number from 1 to 65535"),
        (["--transport", "http", "--port", "0"], "is not a port number from 1 to 65535"),
    ],
)
def test_server_command_line_refuses_what_it_would_ignore(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        transport.main(server_with(STANDARD), argv, prog="python -m test")
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


async def test_unique_items_are_enforced_per_tool(sfn: FakeSfn) -> None:
    class Loose(BaseModel):
        tags: list[str]

    class Unique(BaseModel):
        model_config = ConfigDict(extra="forbid")

        tags: list[str] = Field(json_schema_extra={"uniqueItems": True})

    async def run(arguments: BaseModel) -> definitions.ExecutionResult:
        return definitions.ExecutionResult(status="SUCCEEDED", output=arguments.model_dump())

    def served(model: type[BaseModel]) -> Any:
        tool = Tool(name="t", title="T", description="d", workflow=EXPRESS, input_model=model,
                    run=run)  # fmt: skip
        return build_server("s", version="1", instructions="i", tools=(tool,))

    twice = {"tags": ["a", "a"]}
    async with Client(served(Loose)) as loose, Client(served(Unique)) as unique:
        assert not (await loose.call_tool("t", twice)).is_error
        refused = await unique.call_tool("t", twice)
        assert not (await unique.call_tool("t", {"tags": ["a", "b"]})).is_error
    assert refused.is_error
    assert "- tags: List should have unique items" in text_of(refused)  # the value not echoed


# --------------------------------------------------------------------------- arguments as sent


def sync_succeeds(sfn: FakeSfn) -> None:
    sfn.routes["StartSyncExecution"] = lambda body: (
        200,
        {"executionArn": "arn:e", "status": "SUCCEEDED", "output": "{}", "startDate": 0},
    )


def started_inputs(sfn: FakeSfn) -> list[Any]:
    return [json.loads(body["input"]) for action, body, _ in sfn.requests if "Start" in action]


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class Masking(BaseModel):
    """What a re-dump of the model would change: a secret masked, 1.0 made 1, a default added."""

    model_config = ConfigDict(extra="forbid")
    secret: SecretStr
    count: int
    note: str = "filled in"


async def test_the_workflow_gets_the_arguments_as_sent_not_a_dump_of_the_model(
    sfn: FakeSfn,
) -> None:
    sync_succeeds(sfn)
    seen: list[BaseModel] = []

    async def run(arguments: Masking) -> definitions.ExecutionResult:
        seen.append(arguments)
        return await run_workflow(EXPRESS, execution.workflow_input(arguments))

    tool = Tool(
        name="m", title="M", description="d", workflow=EXPRESS, input_model=Masking, run=run
    )
    sent = {"secret": "hunter2", "count": 1.0}
    async with Client(build_server("s", version="1", instructions="i", tools=(tool,))) as client:
        result = await client.call_tool("m", sent)
    assert not result.is_error, text_of(result)
    assert started_inputs(sfn) == [sent]
    assert json.loads(sfn.requests[0][1]["input"])["count"] == 1.0  # "1.0" on the wire, not "1"
    assert canonical(started_inputs(sfn)[0]) == canonical(sent)
    # the model still types them (and would have masked the secret and filled the default)
    assert seen[0].model_dump(mode="json")["secret"] == "**********"
    assert seen[0].model_dump(mode="json")["note"] == "filled in"


def test_a_model_made_in_python_is_dumped_with_only_what_was_set() -> None:
    made = Order(orderId="ORD-1", quantity=2)
    assert execution.workflow_input(made) == GOOD
    assert execution.workflow_input(Strict(giftMessage="hi")) == {"giftMessage": "hi"}


async def test_the_envelope_carries_the_detail_as_sent(sfn: FakeSfn) -> None:
    sync_succeeds(sfn)

    async def run(arguments: BaseModel) -> definitions.ExecutionResult:
        event = event_envelope(arguments, workflow=EXPRESS, source="com.shop", detail_type="X")
        return await run_workflow(EXPRESS, event)

    detail = {"secret": "p@ss", "count": 3.0}
    tool = Tool(
        name="e", title="E", description="d", workflow=EXPRESS, input_model=Masking, run=run
    )
    async with Client(build_server("s", version="1", instructions="i", tools=(tool,))) as client:
        assert not (await client.call_tool("e", detail)).is_error
    (event,) = started_inputs(sfn)
    assert canonical(event["detail"]) == canonical(detail)
    assert (event["source"], event["detail-type"]) == ("com.shop", "X")


LOOSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "note": {"type": "string", "maxLength": 10},
        "count": {"type": "integer"},
        "items": {"type": "array", "items": {"type": "object"}},
    },
}


class Loose(BaseModel):
    """A model stricter than its schema (count at most 5): the schema decides."""

    note: str | None = None
    count: int | None = Field(default=None, le=5)
    items: list[dict[str, Any]] = []


def loose_tool(run: Any) -> Tool[Loose]:
    return Tool(name="l", title="L", description="d", workflow=EXPRESS, input_model=Loose,
                schema=LOOSE_SCHEMA, run=run)  # fmt: skip


async def test_the_published_schema_decides_not_the_model(
    sfn: FakeSfn, caplog: pytest.LogCaptureFixture
) -> None:
    sync_succeeds(sfn)

    async def run(arguments: Loose) -> definitions.ExecutionResult:
        return await run_workflow(EXPRESS, execution.workflow_input(arguments))

    tool = loose_tool(run)
    assert tool.input_schema == LOOSE_SCHEMA and tool.input_schema is not LOOSE_SCHEMA
    async with Client(build_server("s", version="1", instructions="i", tools=(tool,))) as client:
        result = await client.call_tool("l", {"count": 10})
        decoded = await client.call_tool("l", {"items": '[{"a": 1}]'})
    assert not result.is_error and not decoded.is_error
    assert started_inputs(sfn) == [{"count": 10}, {"items": [{"a": 1}]}]  # JSON text decoded
    assert "match the published schema but not the model Loose" in caplog.text


async def test_messages_never_repeat_a_huge_value(sfn: FakeSfn) -> None:
    async def run(arguments: Loose) -> definitions.ExecutionResult:
        raise AssertionError("not reached")

    huge = "x" * 100_000
    async with Client(
        build_server("s", version="1", instructions="i", tools=(loose_tool(run),))
    ) as client:
        long_value = await client.call_tool("l", {"note": huge})
        long_name = await client.call_tool("l", {huge: 1})
        wrong_type = await client.call_tool("l", {"count": huge})
    for result in (long_value, long_name, wrong_type):
        assert result.is_error and len(text_of(result)) < 300, text_of(result)[:300]
    assert "- note: String should have at most 10 character(s)" in text_of(long_value)
    assert f"- {'x' * 60}…: Extra inputs are not permitted" in text_of(long_name)
    assert "- count: Input should be a valid integer" in text_of(wrong_type)
    assert sfn.requests == []


# --------------------------------------------------------------------------- the package itself

RUNTIME_DIR = Path(sfn_mcp_runtime.__file__).parent
RUNTIME_MODULES = sorted(RUNTIME_DIR.glob("*.py"))
# What the runtime may import besides the standard library and itself (all in SERVER_MODULES).
RUNTIME_DEPENDENCIES = {
    "mcp",
    "pydantic",
    "jsonschema",
    "anyio",
    "boto3",
    "botocore",
    "uvicorn",
    "jwt",
}


def _imports(path: Path) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement of a module, at any depth (the lazy ones in functions too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def test_the_contract_imports_without_the_mcp_sdk() -> None:
    code = (
        "import sys, sfn_mcp_runtime.contract\n"
        "print(sorted({'mcp', 'pydantic', 'boto3', 'botocore'} & set(sys.modules)))"
    )
    env = {**os.environ, "PYTHONPATH": str(RUNTIME_DIR.parent)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("path", RUNTIME_MODULES, ids=lambda path: path.name)
def test_runtime_modules_import_each_other_only_relatively(path: Path) -> None:
    """The modules are copied into every generated package as ``<package>._runtime``: an
    absolute ``sfn_mcp_runtime`` import would not resolve there."""
    for node in _imports(path):
        if isinstance(node, ast.ImportFrom) and node.level:
            assert node.level == 1, f"{path.name}:{node.lineno}: reaches outside _runtime"
            continue
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        for name in names:
            top = name.partition(".")[0]
            assert top != "sfn_mcp_runtime", f"{path.name}:{node.lineno}: import {name} absolutely"
            assert top in sys.stdlib_module_names or top in RUNTIME_DEPENDENCIES, (
                f"{path.name}:{node.lineno}: {name} is not a dependency of generated servers"
            )
    assert RUNTIME_DEPENDENCIES <= SERVER_MODULES


def test_runtime_modules_import_no_cycle() -> None:
    graph = {
        path.stem: {
            node.module.partition(".")[0]
            for node in _imports(path)
            if isinstance(node, ast.ImportFrom) and node.level and node.module
        }
        for path in RUNTIME_MODULES
    }
    assert graph["__init__"] == set() and graph["contract"] == set()
    seen: list[str] = []  # a topological order: each module after what it imports
    while len(seen) < len(graph):
        ready = sorted(m for m, deps in graph.items() if m not in seen and deps <= set(seen))
        assert ready, f"import cycle among {sorted(set(graph) - set(seen))}"
        seen.extend(ready)


def test_what_tools_py_imports_lives_where_the_contract_says() -> None:
    for name, module in TOOLS_IMPORTS.items():
        assert hasattr(importlib.import_module(f"sfn_mcp_runtime.{module}"), name), name


def test_a_copy_of_the_runtime_works_inside_another_package(tmp_path: Path) -> None:
    """What sfn-mcp does: every module copied byte for byte into ``<package>/_runtime/``, then
    imported from there (where ``sfn_mcp_runtime`` itself is not importable)."""
    target = tmp_path / "shop" / RUNTIME_PACKAGE
    target.mkdir(parents=True)
    (tmp_path / "shop" / "__init__.py").write_text("")
    for path in RUNTIME_MODULES:
        shutil.copyfile(path, target / path.name)
    code = """
import importlib, json, sys
from shop._runtime.contract import Hints
from shop._runtime.definitions import ExecutionResult, FreeFormInput, Tool, Workflow
from shop._runtime.execution import event_envelope, run_workflow, workflow_input
from shop._runtime.server import build_server
from shop._runtime.transport import main as run
workflow = Workflow("quick", "arn:aws:states:eu-west-1:123456789012:stateMachine:quick", "EXPRESS")
async def go(arguments):
    return await run_workflow(workflow, workflow_input(arguments))
tool = Tool(name="quick", title="Quick", description="d", workflow=workflow,
            input_model=FreeFormInput, run=go, hints=Hints(read_only=True))
build_server("shop", version="1", instructions="i", tools=(tool,))
listed = importlib.import_module("shop._runtime.server").tools_list((tool,))
assert "sfn_mcp_runtime" not in sys.modules
print(json.dumps([(t["name"], t["annotations"]["readOnlyHint"]) for t in listed]))
"""
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [["quick", True], ["get_execution", True]]


# --------------------------------------------------------------------------- targets


REVIEWED = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}'
TARGETED = Workflow(
    "paid",
    ARN + "paid",
    "EXPRESS",
    target_arn=ARN + "paid:prod",
    definition_sha256=definition_digest(REVIEWED),
)


def _target_routes(sfn: FakeSfn, definition: str) -> None:
    version = {"stateMachineVersionArn": ARN + "paid:3", "weight": 100}
    sfn.routes["DescribeStateMachineAlias"] = lambda _: (200, {"routingConfiguration": [version]})
    sfn.routes["DescribeStateMachine"] = lambda _: (200, {"definition": definition})
    sfn.routes["StartSyncExecution"] = lambda _: (200, {"status": "SUCCEEDED", "output": "{}",
                                                        "executionArn": ARN + "x"})  # fmt: skip


@pytest.mark.anyio
async def test_executions_start_the_target_not_the_machine(
    sfn: FakeSfn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(execution.VERIFY_VARIABLE, raising=False)
    _target_routes(sfn, REVIEWED)
    await run_workflow(TARGETED, {"a": 1})
    (start,) = [body for action, body, _ in sfn.requests if action == "StartSyncExecution"]
    assert start["stateMachineArn"] == ARN + "paid:prod"
    assert sfn.actions() == ["StartSyncExecution"]  # verification is opt-in


@pytest.mark.anyio
async def test_a_target_that_moved_is_refused_before_anything_starts(
    sfn: FakeSfn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(execution.VERIFY_VARIABLE, "1")
    monkeypatch.setattr(execution, "_VERIFIED", {})
    _target_routes(sfn, REVIEWED.replace('"P"', '"Q"'))
    with pytest.raises(definitions.WorkflowError, match="another definition than the one"):
        await run_workflow(TARGETED, {"a": 1})
    assert "StartSyncExecution" not in sfn.actions()
    assert sfn.actions() == ["DescribeStateMachineAlias", "DescribeStateMachine"]
    described = [body for action, body, _ in sfn.requests if action == "DescribeStateMachine"]
    assert described == [{"stateMachineArn": ARN + "paid:3"}]  # the alias's version


@pytest.mark.anyio
async def test_the_reviewed_target_runs_and_is_described_once(
    sfn: FakeSfn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(execution.VERIFY_VARIABLE, "1")
    monkeypatch.setattr(execution, "_VERIFIED", {})
    _target_routes(sfn, REVIEWED)
    for _ in range(3):
        await run_workflow(TARGETED, {"a": 1})
    assert sfn.actions().count("DescribeStateMachine") == 1
    assert sfn.actions().count("StartSyncExecution") == 3


def test_an_idempotency_key_with_a_trailing_newline_is_refused() -> None:
    assert definitions.EXECUTION_NAME.fullmatch("key-1")
    assert not definitions.EXECUTION_NAME.fullmatch("key-1\n")
