"""Long workflows the protocol's way, against the local AWS with generated servers as stdio
subprocesses: MCP Tasks backed by executions in both eras (SEP-2663 on 2026-07-28, SEP-1686 on
2025-11-25), approval steps asked by elicitation or answered with the fallback tool, and runs
that need the user's confirmation."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp.types import ElicitResult

from tests.helpers import ROLE, generate

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

PREFIX = "sfn-tasks-"
ACCOUNT_ARN = "arn:aws:states:us-east-1:000000000000"
EXTENSION = "io.modelcontextprotocol/tasks"
DECLARED = {"io.modelcontextprotocol/clientCapabilities": {"extensions": {EXTENSION: {}}}}
SLOW = {
    "Comment": "Waits three seconds, then says what it was given.",
    "StartAt": "Wait",
    "States": {
        "Wait": {"Type": "Wait", "Seconds": 3, "Next": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"given.$": "$", "done": True}, "End": True},
    },
}
FAILING = {
    "Comment": "Fails after a second, as a workflow whose input is wrong does.",
    "StartAt": "Wait",
    "States": {
        "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Fail"},
        "Fail": {"Type": "Fail", "Error": "Orders.Invalid", "Cause": "no such order"},
    },
}
APPROVAL = {
    "Comment": "Refunds an order once a person approves it.",
    "StartAt": "Approve",
    "States": {
        "Approve": {
            "Type": "Task",
            "Comment": "Approval: refund this order to the customer?",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {
                "FunctionName": "sfn-tasks-notify",
                "Payload": {"token.$": "$$.Task.Token", "order.$": "$.order"},
            },
            "Next": "Refunded",
        },
        "Refunded": {"Type": "Pass", "Parameters": {"answer.$": "$"}, "End": True},
    },
}
CONFIG = f"""
prefix = "{PREFIX}"
name = "task_tools"
poll-interval-seconds = 1

[workflows."{PREFIX}guarded"]
confirm = true
"""


@pytest.fixture(scope="module")
def aws_env(local_aws: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STATE_MACHINE_"))}
    return env | dict(local_aws.env)


@pytest.fixture(scope="module")
def package(local_aws: Any, aws_env: dict[str, str], tmp_path_factory: Any) -> Path:
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {'sent': True}\n")
    local_aws.client("lambda").create_function(
        FunctionName="sfn-tasks-notify",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
    )
    sfn = local_aws.client("stepfunctions")
    machines = (("slow", SLOW), ("approve", APPROVAL), ("guarded", SLOW), ("failing", FAILING))
    for name, definition in machines:
        sfn.create_state_machine(
            name=PREFIX + name, definition=json.dumps(definition), roleArn=ROLE
        )
    output = tmp_path_factory.mktemp("tasks")
    config = output / "sfn-mcp.toml"
    config.write_text(CONFIG, encoding="utf-8")
    generate(aws_env, output, "--config", str(config))
    return output


Elicit = Callable[[Any, Any], Awaitable[ElicitResult]]


@asynccontextmanager
async def connected(
    package: Path, env: dict[str, str], mode: str, elicit: Elicit | None = None
) -> AsyncIterator[Client]:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "task_tools"], cwd=str(package), env=env
    )
    async with Client(params, mode=mode, elicitation_callback=elicit) as client:  # type: ignore[arg-type]
        yield client


async def raw(client: Client, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """A request as JSON, whatever the SDK's typed unions know of it."""
    session = client.session
    meta = params.get("_meta")
    data: dict[str, Any] = {
        "method": method,
        "params": {k: v for k, v in params.items() if k != "_meta"},
    }
    options: dict[str, Any] = {}
    session._stamp(data, options)  # the era's envelope: protocol version, capabilities in _meta
    if meta:  # what the test declares on top of the client's own
        merged = data["params"].setdefault("_meta", {})
        for key, value in meta.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = _merged(merged[key], value)
            else:
                merged[key] = value
    answer = await session._dispatcher.send_raw_request(method, data["params"], options)
    return dict(answer)


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = (
            _merged(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


async def poll(
    client: Client, task: str, *, modern: bool, until: tuple[str, ...] = ("completed",)
) -> dict[str, Any]:
    meta = {"_meta": DECLARED} if modern else {}
    with anyio.fail_after(60):
        while True:
            state = await raw(client, "tasks/get", {"taskId": task, **meta})
            if state["status"] in until or state["status"] in ("completed", "cancelled", "failed"):
                return state
            await anyio.sleep(0.3)


def execution_of(task: str) -> str:
    encoded = task.removeprefix("sfn1.")
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()


# --- SEP-2663: the 2026-07-28 extension ---------------------------------------------------------


async def test_a_long_workflow_is_a_task_that_completes_with_the_synchronous_result(
    package: Path, aws_env: dict[str, str]
) -> None:
    async with connected(package, aws_env, "2026-07-28") as client:
        created = await raw(
            client,
            "tools/call",
            {"name": "slow", "arguments": {"order": 7}, "_meta": DECLARED},
        )
        assert created["resultType"] == "task"
        assert created["status"] == "working" and created["pollIntervalMs"] == 1000
        assert created["ttlMs"] == 90 * 24 * 3600 * 1000
        task = created["taskId"]
        # the task exists the moment it is handed out
        first = await raw(client, "tasks/get", {"taskId": task, "_meta": DECLARED})
        assert first["status"] == "working" and first["resultType"] == "complete"
        done = await poll(client, task, modern=True)
        assert done["status"] == "completed"
        result = done["result"]
        assert result["isError"] is False
        assert result["structuredContent"]["status"] == "SUCCEEDED"
        assert result["structuredContent"]["output"] == {"given": {"order": 7}, "done": True}
        # exactly what the synchronous path answers for that execution
        arn = result["structuredContent"]["executionArn"]
        assert execution_of(task) == arn
        synchronous = await client.call_tool("get_execution", {"execution_arn": arn})
        assert synchronous.structured_content == result["structuredContent"]
        assert synchronous.content[0].text == result["content"][0]["text"]  # type: ignore[union-attr]


async def test_a_failed_execution_is_a_completed_task_whose_result_is_an_error(
    package: Path, aws_env: dict[str, str]
) -> None:
    async with connected(package, aws_env, "2026-07-28") as client:
        created = await raw(
            client, "tools/call", {"name": "failing", "arguments": {}, "_meta": DECLARED}
        )
        done = await poll(client, created["taskId"], modern=True)
    assert done["status"] == "completed"  # a tool error is no protocol error
    assert done["result"]["isError"] is True
    assert done["result"]["structuredContent"]["status"] == "FAILED"
    assert done["result"]["structuredContent"]["error"] == "Orders.Invalid"


async def test_a_cancelled_task_aborts_its_execution(
    package: Path, aws_env: dict[str, str], local_aws: Any
) -> None:
    async with connected(package, aws_env, "2026-07-28") as client:
        created = await raw(
            client, "tools/call", {"name": "slow", "arguments": {}, "_meta": DECLARED}
        )
        task = created["taskId"]
        acknowledged = await raw(client, "tasks/cancel", {"taskId": task, "_meta": DECLARED})
        assert acknowledged["resultType"] == "complete" and "status" not in acknowledged
        state = await poll(client, task, modern=True, until=("cancelled",))
        assert state["status"] in ("cancelled", "completed")
        if state["status"] == "completed":
            assert state["result"]["isError"] is True
    described = local_aws.client("stepfunctions").describe_execution(
        executionArn=execution_of(task)
    )
    assert described["status"] == "ABORTED"


async def test_forged_and_foreign_task_ids_are_refused(
    package: Path, aws_env: dict[str, str]
) -> None:
    foreign = f"{ACCOUNT_ARN}:execution:ai-workflows-daily-etl:x"
    forged = "sfn1." + base64.urlsafe_b64encode(foreign.encode()).decode().rstrip("=")
    async with connected(package, aws_env, "2026-07-28") as client:
        for task in (forged, "not-a-task", "sfn1.%%%"):
            with pytest.raises(MCPError) as refused:
                await raw(client, "tasks/get", {"taskId": task, "_meta": DECLARED})
            assert refused.value.error.code == -32602
            assert "not a task of this server" in refused.value.error.message
        # a client that did not declare the extension may not use its methods
        with pytest.raises(MCPError) as undeclared:
            await raw(client, "tasks/get", {"taskId": forged})
        assert undeclared.value.error.code == -32021


async def test_a_task_started_by_one_server_is_read_and_cancelled_by_another(
    package: Path, aws_env: dict[str, str], local_aws: Any
) -> None:
    async with connected(package, aws_env, "2026-07-28") as first:
        created = await raw(
            first, "tools/call", {"name": "slow", "arguments": {"n": 1}, "_meta": DECLARED}
        )
    task = created["taskId"]  # the first server process is gone now
    async with connected(package, aws_env, "2026-07-28") as second:
        state = await raw(second, "tasks/get", {"taskId": task, "_meta": DECLARED})
        assert state["status"] == "working"
        await raw(second, "tasks/cancel", {"taskId": task, "_meta": DECLARED})
    described = local_aws.client("stepfunctions").describe_execution(
        executionArn=execution_of(task)
    )
    assert described["status"] == "ABORTED"


async def test_an_idempotency_key_returns_the_same_task(
    package: Path, aws_env: dict[str, str]
) -> None:
    arguments = {"order": 1, "idempotency_key": "task-retry-1"}
    async with connected(package, aws_env, "2026-07-28") as client:
        once = await raw(
            client, "tools/call", {"name": "slow", "arguments": arguments, "_meta": DECLARED}
        )
        again = await raw(
            client, "tools/call", {"name": "slow", "arguments": arguments, "_meta": DECLARED}
        )
        assert once["taskId"] == again["taskId"]
        assert execution_of(once["taskId"]).endswith(":task-retry-1")


async def test_clients_without_the_extension_get_the_bounded_wait_unchanged(
    package: Path, aws_env: dict[str, str]
) -> None:
    async with connected(package, aws_env, "2026-07-28") as client:
        result = await client.call_tool("slow", {"order": 2})
    assert result.structured_content is not None
    assert result.structured_content["status"] == "SUCCEEDED"


# --- SEP-1686: 2025-11-25 experimental tasks ------------------------------------------------------


async def test_a_2025_11_25_task_is_created_polled_and_its_result_blocks_until_done(
    package: Path, aws_env: dict[str, str]
) -> None:
    async with connected(package, aws_env, "legacy") as client:
        capabilities = client.session.server_capabilities
        assert capabilities is not None and capabilities.tasks is not None
        assert capabilities.tasks.requests is not None
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert listed["slow"].execution is not None
        assert listed["slow"].execution.task_support == "optional"
        assert listed["get_execution"].execution is not None
        assert listed["get_execution"].execution.task_support == "forbidden"

        created = await raw(
            client, "tools/call", {"name": "slow", "arguments": {"a": 1}, "task": {"ttl": 60000}}
        )
        task = created["task"]
        assert task["status"] == "working" and task["pollInterval"] == 1000
        state = await raw(client, "tasks/get", {"taskId": task["taskId"]})
        assert state["taskId"] == task["taskId"] and state["status"] == "working"
        result = await raw(client, "tasks/result", {"taskId": task["taskId"]})
        assert result["structuredContent"]["status"] == "SUCCEEDED"
        assert result["structuredContent"]["output"]["given"] == {"a": 1}
        assert result["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": task["taskId"]}
        done = await raw(client, "tasks/get", {"taskId": task["taskId"]})
        assert done["status"] == "completed"


async def test_a_2025_11_25_task_is_cancelled(
    package: Path, aws_env: dict[str, str], local_aws: Any
) -> None:
    async with connected(package, aws_env, "legacy") as client:
        created = await raw(
            client, "tools/call", {"name": "slow", "arguments": {}, "task": {"ttl": 60000}}
        )
        task = created["task"]["taskId"]
        cancelled = await raw(client, "tasks/cancel", {"taskId": task})
        assert cancelled["taskId"] == task
        state = await poll(client, task, modern=False, until=("cancelled",))
        assert state["status"] in ("cancelled", "completed")
    described = local_aws.client("stepfunctions").describe_execution(
        executionArn=execution_of(task)
    )
    assert described["status"] == "ABORTED"


# --- approval steps -------------------------------------------------------------------------------


def answering(action: str, content: dict[str, Any] | None) -> tuple[Elicit, list[Any]]:
    asked: list[Any] = []

    async def elicit(_context: Any, params: Any) -> ElicitResult:
        asked.append(params)
        return ElicitResult(action=action, content=content)  # type: ignore[arg-type]

    return elicit, asked


async def test_an_approval_step_is_asked_by_elicitation_and_the_answer_goes_on(
    package: Path, aws_env: dict[str, str]
) -> None:
    elicit, asked = answering("accept", {"approved": True, "comment": "fine by me"})
    async with connected(package, aws_env, "legacy", elicit) as client:
        result = await client.call_tool("approve", {"order": 42})
    assert result.structured_content is not None
    assert result.structured_content["status"] == "SUCCEEDED", result
    assert result.structured_content["output"]["answer"] == {
        "approved": True,
        "comment": "fine by me",
    }
    (question,) = asked
    assert "refund this order to the customer?" in question.message
    assert question.requested_schema["required"] == ["approved"]


async def test_a_declined_approval_fails_the_workflow(
    package: Path, aws_env: dict[str, str]
) -> None:
    elicit, asked = answering("decline", None)
    async with connected(package, aws_env, "legacy", elicit) as client:
        result = await client.call_tool("approve", {"order": 43})
    assert result.is_error
    assert result.structured_content is not None
    assert result.structured_content["status"] == "FAILED"
    assert result.structured_content["error"] == "sfn-mcp.Declined"
    assert len(asked) == 1


async def test_an_approval_step_on_a_task_is_input_required_and_answered_with_tasks_update(
    package: Path, aws_env: dict[str, str]
) -> None:
    async with connected(package, aws_env, "2026-07-28") as client:
        created = await raw(
            client, "tools/call", {"name": "approve", "arguments": {"order": 5}, "_meta": DECLARED}
        )
        task = created["taskId"]
        state = await poll(client, task, modern=True, until=("input_required",))
        assert state["status"] == "input_required"
        ((key, request),) = state["inputRequests"].items()
        assert request["method"] == "elicitation/create"
        assert "refund this order" in request["params"]["message"]
        await raw(
            client,
            "tasks/update",
            {
                "taskId": task,
                "inputResponses": {key: {"action": "accept", "content": {"approved": True}}},
                "_meta": DECLARED,
            },
        )
        done = await poll(client, task, modern=True)
        assert done["status"] == "completed"
        assert done["result"]["structuredContent"]["status"] == "SUCCEEDED"
        assert done["result"]["structuredContent"]["output"]["answer"] == {"approved": True}


async def test_without_elicitation_the_result_says_it_waits_and_answer_step_answers(
    package: Path, aws_env: dict[str, str]
) -> None:
    async with connected(package, aws_env, "2026-07-28") as client:
        waiting = await client.call_tool("approve", {"order": 6})
        assert waiting.structured_content is not None
        assert waiting.structured_content["status"] == "RUNNING"
        text = waiting.content[0].text  # type: ignore[union-attr]
        assert "waits for an answer at step Approve" in text and "answer_step" in text
        arn = waiting.structured_content["executionArn"]
        refused = await client.call_tool(
            "answer_step",
            {
                "execution_arn": f"{ACCOUNT_ARN}:execution:ai-workflows-daily-etl:x",
                "approved": True,
            },
        )
        assert refused.is_error and "refused" in refused.content[0].text  # type: ignore[union-attr]
        answered = await client.call_tool(
            "answer_step", {"execution_arn": arn, "approved": True, "comment": "ok"}
        )
        assert not answered.is_error, answered
        with anyio.fail_after(30):
            while True:
                status = await client.call_tool("get_execution", {"execution_arn": arn})
                assert status.structured_content is not None
                if status.structured_content["status"] != "RUNNING":
                    break
                await anyio.sleep(0.3)
        assert status.structured_content["status"] == "SUCCEEDED"
        assert status.structured_content["output"]["answer"] == {"approved": True, "comment": "ok"}


# --- confirmation before a run --------------------------------------------------------------------


async def test_a_workflow_that_needs_confirmation_runs_only_once_confirmed(
    package: Path, aws_env: dict[str, str], local_aws: Any
) -> None:
    sfn = local_aws.client("stepfunctions")
    guarded = f"{ACCOUNT_ARN}:stateMachine:{PREFIX}guarded"

    def runs() -> int:
        return len(sfn.list_executions(stateMachineArn=guarded, maxResults=100)["executions"])

    before = runs()
    elicit, asked = answering("accept", {"confirm": True})
    async with connected(package, aws_env, "legacy", elicit) as client:
        result = await client.call_tool("guarded", {"order": 1})
    assert result.structured_content is not None
    assert result.structured_content["status"] == "SUCCEEDED"
    assert len(asked) == 1 and "Run " in asked[0].message
    assert runs() == before + 1

    no, _ = answering("decline", None)
    async with connected(package, aws_env, "legacy", no) as client:
        declined = await client.call_tool("guarded", {"order": 2})
    assert declined.is_error and "did not confirm" in declined.content[0].text  # type: ignore[union-attr]
    async with connected(package, aws_env, "2026-07-28") as client:  # cannot be asked
        refused = await client.call_tool("guarded", {"order": 3})
    assert refused.is_error and "cannot ask" in refused.content[0].text  # type: ignore[union-attr]
    assert runs() == before + 1


# --- a client nobody here wrote: mcpc (TypeScript SDK, 2025-11-25 Tasks) ------------------------

MCPC = Path(__file__).parents[1] / ".node" / "node_modules" / ".bin" / "mcpc"


def mcpc(home: Path, *args: str) -> Any:
    """mcpc with its state in ``home``; JSON output parsed."""
    if not MCPC.exists():
        reason = "mcpc is not installed: run `make inspector` (needs Node.js 20+ and npm)"
        if shutil.which("node") is None and not os.environ.get("CI"):
            pytest.skip(f"{reason}; Node.js is not installed on this machine")
        pytest.fail(reason)
    done = subprocess.run(
        [str(MCPC), "--json", *args],
        env={"HOME": str(home), "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None, done.stderr


def test_mcpc_drives_tasks_created_polled_resulted_and_cancelled(
    package: Path, aws_env: dict[str, str], local_aws: Any, tmp_path: Path
) -> None:
    env = {k: v for k, v in aws_env.items() if k.startswith("AWS_")}
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "tasks": {
                        "command": sys.executable,
                        "args": ["-m", "task_tools"],
                        "env": {**env, "PYTHONPATH": str(package)},
                    }
                }
            }
        )
    )
    home = tmp_path / "home"
    home.mkdir()
    code, _, err = mcpc(home, "connect", f"{config}:tasks", "@tasks")
    assert code == 0, err
    try:
        code, created, err = mcpc(home, "@tasks", "tools-call", "slow", "order:=11", "--detach")
        assert code == 0, err
        task = created["taskId"]
        assert created["status"] == "working"
        code, state, err = mcpc(home, "@tasks", "tasks-get", task)
        assert code == 0 and state["taskId"] == task and state["pollInterval"] == 1000, err
        code, result, err = mcpc(home, "@tasks", "tasks-result", task)
        assert code == 0, err
        assert result["structuredContent"]["status"] == "SUCCEEDED"
        assert result["structuredContent"]["output"]["given"] == {"order": 11}

        code, other, err = mcpc(home, "@tasks", "tools-call", "slow", "--detach")
        assert code == 0, err
        code, cancelled, err = mcpc(home, "@tasks", "tasks-cancel", other["taskId"])
        assert code == 0 and cancelled["status"] in ("cancelled", "working"), err
        status = local_aws.client("stepfunctions").describe_execution(
            executionArn=execution_of(other["taskId"])
        )["status"]
        assert status == "ABORTED"

        code, _, err = mcpc(home, "@tasks", "tasks-get", "sfn1.Zm9v")  # errors go to stderr
        assert code != 0 and "not a task of this server" in json.loads(err)["error"]
    finally:
        mcpc(home, "close", "@tasks")


async def test_tasks_result_sends_status_notifications_while_it_waits(
    package: Path, local_aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK's own client drops notifications/tasks/status (its 2025-11-25 tables lack it),
    so the server's session is watched in process instead."""
    from mcp.server.session import ServerSession

    from sfn_mcp_runtime.definitions import FreeFormInput, Tool, Workflow
    from sfn_mcp_runtime.execution import run_workflow
    from sfn_mcp_runtime.server import build_server

    for key, value in local_aws.env.items():
        monkeypatch.setenv(key, value)
    sent: list[dict[str, Any]] = []
    original = ServerSession.send_notification

    async def record(self: ServerSession, notification: Any, *args: Any, **kwargs: Any) -> None:
        sent.append(notification.model_dump(by_alias=True, mode="json", exclude_none=True))
        await original(self, notification, *args, **kwargs)

    monkeypatch.setattr(ServerSession, "send_notification", record)
    workflow = Workflow("slow", f"{ACCOUNT_ARN}:stateMachine:{PREFIX}slow", "STANDARD")

    async def run(_model: Any, idempotency_key: str | None = None) -> Any:
        return await run_workflow(workflow, {"n": 1}, idempotency_key=idempotency_key)

    tool = Tool(
        name="slow", title="Slow", description="d", workflow=workflow,
        input_model=FreeFormInput, run=run,
    )  # fmt: skip
    server = build_server("t", version="1", instructions="", tools=(tool,))
    async with Client(server, mode="legacy") as client:
        created = await raw(
            client, "tools/call", {"name": "slow", "arguments": {}, "task": {"ttl": 1000}}
        )
        await raw(client, "tasks/result", {"taskId": created["task"]["taskId"]})
    statuses = [n["params"]["status"] for n in sent if n["method"] == "notifications/tasks/status"]
    assert statuses[0] == "working" and statuses[-1] == "completed"
