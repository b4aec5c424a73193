"""Generated servers under the conditions real clients create: long STANDARD runs (progress, the
bounded wait, get_execution), cancellation, retries with an idempotency key, and many calls at
once. Against the local AWS, with the server as a subprocess driven by the MCP SDK client."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import anyio
import pytest
from mcp.types import CallToolResult, TextContent

from tests.helpers import ROLE, generate, server

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

PREFIX = "sfn-long-"
ACCOUNT_ARN = "arn:aws:states:us-east-1:000000000000"
# Prepare → WaitForApproval (as long as the input says) → Finish.
WAITING = {
    "Comment": "Waits as long as asked, then reports what it was given.",
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Next": "WaitForApproval"},
        "WaitForApproval": {"Type": "Wait", "SecondsPath": "$.seconds", "Next": "Finish"},
        "Finish": {
            "Type": "Pass",
            "Parameters": {"waited.$": "$.seconds", "approved": True},
            "End": True,
        },
    },
}
EXPRESS_ONE_SECOND = {
    "StartAt": "Wait",
    "States": {
        "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Echo"},
        "Echo": {"Type": "Pass", "End": True},
    },
}
CONFIG = f"""
prefix = "{PREFIX}"
name = "long_tools"

[workflows."{PREFIX}stoppable"]
stop-on-cancel = true
"""


@pytest.fixture(scope="module")
def aws_env(local_aws: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STATE_MACHINE_"))}
    return env | dict(local_aws.env)


@pytest.fixture(scope="module")
def long_package(
    local_aws: Any, aws_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Three test-only machines compiled into `long_tools`; `stoppable` stops on cancel."""
    sfn = local_aws.client("stepfunctions")
    for name, definition, kind in (
        ("waiting", WAITING, "STANDARD"),
        ("stoppable", WAITING, "STANDARD"),
        ("express", EXPRESS_ONE_SECOND, "EXPRESS"),
    ):
        sfn.create_state_machine(
            name=PREFIX + name, definition=json.dumps(definition), roleArn=ROLE, type=kind
        )
    output = tmp_path_factory.mktemp("long")
    config = output / "sfn-mcp.toml"
    config.write_text(CONFIG, encoding="utf-8")
    generate(aws_env, output, "--config", str(config))
    return output


def serve(package: Path, env: dict[str, str], errlog: TextIO = sys.stderr) -> Any:
    return server(package, env, "long_tools", errlog)


def text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def data(result: CallToolResult) -> dict[str, Any]:
    assert result.structured_content is not None, text(result)
    return result.structured_content


def execution_arn(machine: str, name: str) -> str:
    return f"{ACCOUNT_ARN}:execution:{PREFIX}{machine}:{name}"


def status_of(local_aws: Any, arn: str) -> str:
    return str(local_aws.client("stepfunctions").describe_execution(executionArn=arn)["status"])


async def test_progress_names_the_current_state_during_a_standard_wait(
    long_package: Path, aws_env: dict[str, str]
) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with serve(long_package, aws_env) as session:
        result = await session.call_tool("waiting", {"seconds": 3}, progress_callback=on_progress)
    assert not result.is_error, text(result)
    assert data(result)["output"] == {"waited": 3, "approved": True}
    print(f"\n{len(seen)} progress notifications: {[m for _, _, m in seen]}")
    assert len(seen) >= 2
    progress = [p for p, _, _ in seen]
    assert progress == sorted(set(progress))  # strictly increasing
    assert any("in state WaitForApproval" in str(message) for _, _, message in seen)
    assert all(total == 50 for _, total, _ in seen)  # the tool's bounded wait


async def test_the_bounded_wait_returns_running_and_get_execution_follows_up(
    long_package: Path, aws_env: dict[str, str]
) -> None:
    env = aws_env | {"SFN_MCP_MAX_WAIT_SECONDS": "1"}
    async with serve(long_package, env) as session:
        started = time.monotonic()
        first = await session.call_tool("waiting", {"seconds": 4})
        returned_after = time.monotonic() - started
        assert not first.is_error, text(first)
        assert data(first)["status"] == "RUNNING"
        arn = data(first)["executionArn"]
        assert arn.startswith(execution_arn("waiting", ""))
        assert "get_execution" in text(first)
        deadline = time.monotonic() + 20
        while True:
            followed = await session.call_tool(
                "get_execution", {"execution_arn": arn, "wait_seconds": 1}
            )
            assert not followed.is_error, text(followed)
            if data(followed)["status"] != "RUNNING" or time.monotonic() > deadline:
                break
    assert returned_after < 4
    assert data(followed)["status"] == "SUCCEEDED"
    assert data(followed)["output"] == {"waited": 4, "approved": True}
    assert data(followed)["executionArn"] == arn


async def test_get_execution_refuses_executions_of_other_machines(
    long_package: Path, aws_env: dict[str, str], local_aws: Any
) -> None:
    sfn = local_aws.client("stepfunctions")
    foreign = sfn.start_execution(
        stateMachineArn=f"{ACCOUNT_ARN}:stateMachine:ai-workflows-support-triage",
        name="not-for-long-tools",
        input=json.dumps({"subject": "s", "body": "b"}),
    )["executionArn"]
    async with serve(long_package, aws_env) as session:
        result = await session.call_tool("get_execution", {"execution_arn": foreign})
    assert result.is_error
    assert "refused" in text(result) and "is not an execution of this server's" in text(result)
    assert "not-for-long-tools" in text(result)


@pytest.mark.parametrize(
    ("machine", "expected"), [("waiting", "RUNNING"), ("stoppable", "ABORTED")]
)
async def test_a_cancelled_call_stops_polling_and_stops_the_execution_only_if_configured(
    long_package: Path,
    aws_env: dict[str, str],
    local_aws: Any,
    tmp_path: Path,
    machine: str,
    expected: str,
) -> None:
    key = f"cancel-{machine}"
    log = tmp_path / "server.log"
    env = aws_env | {"SFN_MCP_LOG_LEVEL": "DEBUG"}
    with log.open("w") as errlog:
        async with serve(long_package, env, errlog) as session:
            with anyio.move_on_after(2.5):  # the client gives up: notifications/cancelled
                await session.call_tool("waiting" if machine == "waiting" else machine,
                                        {"seconds": 30, "idempotency_key": key})  # fmt: skip
            await anyio.sleep(1.0)
            polls_after_cancel = log.read_text().count("polling ")
            await anyio.sleep(3.0)  # longer than the poll interval at this point
            polls_later = log.read_text().count("polling ")
            await session.send_ping()  # the server is still serving
            arn = execution_arn(machine, key)
            status = status_of(local_aws, arn)
    print(f"\n{machine}: {polls_after_cancel} polls before the cancel took effect, then none")
    assert polls_after_cancel >= 1
    assert polls_later == polls_after_cancel
    assert status == expected
    if expected == "RUNNING":
        local_aws.client("stepfunctions").stop_execution(executionArn=arn)


async def test_the_same_idempotency_key_starts_one_execution(
    long_package: Path, aws_env: dict[str, str], local_aws: Any
) -> None:
    arguments = {"seconds": 1, "idempotency_key": "nightly-2026-11-23"}
    results: list[CallToolResult] = []
    async with serve(long_package, aws_env) as session:

        async def call() -> None:
            results.append(await session.call_tool("waiting", arguments))

        async with anyio.create_task_group() as group:  # a retry while the first still runs
            group.start_soon(call)
            group.start_soon(call)
        await call()  # and a retry after it ended
        changed = await session.call_tool("waiting", {**arguments, "seconds": 2})
    sfn = local_aws.client("stepfunctions")
    runs = [
        e
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=f"{ACCOUNT_ARN}:stateMachine:{PREFIX}waiting"
        )
        for e in page["executions"]
        if e["name"] == "nightly-2026-11-23"
    ]
    assert len(runs) == 1
    assert all(not r.is_error for r in results), [text(r) for r in results]
    assert {data(r)["executionArn"] for r in results} == {runs[0]["executionArn"]}
    assert all(data(r)["output"] == {"waited": 1, "approved": True} for r in results)
    assert sum("no new one was started" in text(r) for r in results) >= 2
    assert changed.is_error and "with other arguments" in text(changed)


async def test_twenty_concurrent_express_calls_run_side_by_side(
    long_package: Path, aws_env: dict[str, str]
) -> None:
    async with serve(long_package, aws_env) as session:
        await session.list_tools()
        await session.call_tool("express", {"n": -1})  # warm up the client and the emulator
        took: list[float] = []
        listing: list[float] = []
        outputs: list[Any] = []

        async def call(n: int) -> None:
            result = await session.call_tool("express", {"n": n})
            assert not result.is_error, text(result)
            outputs.append(data(result)["output"]["n"])

        async def list_during() -> None:
            await anyio.sleep(0.3)
            started = time.monotonic()
            await session.list_tools()
            listing.append(time.monotonic() - started)

        started = time.monotonic()
        async with anyio.create_task_group() as group:
            for n in range(20):
                group.start_soon(call, n)
            group.start_soon(list_during)
        took.append(time.monotonic() - started)
    print(
        f"\n20 concurrent 1 s EXPRESS calls: {took[0]:.2f} s in all "
        f"(one after another: at least 20 s); tools/list meanwhile: {listing[0] * 1000:.0f} ms"
    )
    assert sorted(outputs) == list(range(20))  # each call got its own execution's output
    assert took[0] < 8
    assert listing[0] < 1.0
