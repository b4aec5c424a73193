"""Runtime shared by every MCP server that sfn-mcp generates.

sfn-mcp copies this file unchanged into each generated package as ``_runtime.py``; it imports only
the standard library, ``mcp``, ``pydantic`` and ``boto3``, so a generated server runs without the
compiler installed. It does four things:

* serves the tools over MCP with the low-level ``Server``, so each tool's ``inputSchema`` is the
  workflow input's own JSON Schema (no wrapper key), and validates arguments before any AWS call;
* runs EXPRESS workflows with StartSyncExecution in a worker thread, never retried (a retried
  StartSyncExecution starts a second execution);
* runs STANDARD workflows with StartExecution, then polls DescribeExecution with backoff up to a
  bounded wait, returning RUNNING and the execution ARN if the workflow is still going;
* turns FAILED / TIMED_OUT / ABORTED executions and AWS errors into ``isError`` results that say
  what happened and what to do.

Environment: the usual boto3 variables (``AWS_PROFILE``, credentials, ``AWS_ENDPOINT_URL`` …), plus
``SFN_MCP_MAX_WAIT_SECONDS`` (overrides every STANDARD workflow's bounded wait) and
``SFN_MCP_LOG_LEVEL`` (default ``WARNING``; logs go to stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, Generic, Literal, TypeVar

import anyio
import anyio.to_thread
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
)
from mcp.types import Tool as McpTool
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.json_schema import GenerateJsonSchema

logger = logging.getLogger("sfn_mcp.runtime")

WorkflowType = Literal["STANDARD", "EXPRESS"]
ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_INPUT_BYTES = 256 * 1024  # Step Functions' limit on execution input
EXPRESS_READ_TIMEOUT = 360.0  # above the 5-minute Express limit, so a long run is not cut off
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
FIRST_POLL_SECONDS = 0.2
MAX_POLL_SECONDS = 5.0


class FreeFormInput(BaseModel):
    """Any JSON object; the workflow has no input schema, so it is passed on unchanged."""

    model_config = ConfigDict(extra="allow", title="FreeFormInput")


@dataclass(frozen=True)
class Workflow:
    """A state machine the server may run: exactly the ARN it was generated for."""

    name: str
    arn: str
    type: WorkflowType
    max_wait_seconds: float = 50.0

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


@dataclass(frozen=True)
class ExecutionResult:
    """What a tool call returns: the execution's outcome, as data."""

    status: str
    execution_arn: str | None = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    start_date: str | None = None
    stop_date: str | None = None
    message: str | None = None

    @property
    def is_error(self) -> bool:
        return self.status not in ("SUCCEEDED", "RUNNING")

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "executionArn": self.execution_arn,
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
            "startDate": self.start_date,
            "stopDate": self.stop_date,
        }


class WorkflowError(Exception):
    """An AWS call failed; the message is shown to the model as an ``isError`` result."""


@dataclass(frozen=True)
class Tool(Generic[ModelT]):
    """One MCP tool: its public contract plus the typed function that runs it."""

    name: str
    title: str
    description: str
    input_model: type[ModelT]
    run: Callable[[ModelT], Awaitable[ExecutionResult]]
    input_schema: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        schema = self.input_model.model_json_schema(by_alias=True, schema_generator=_NoFieldTitles)
        object.__setattr__(self, "input_schema", schema)


class _NoFieldTitles(GenerateJsonSchema):
    """Leave out the titles pydantic derives from field names ("Rundate" for ``runDate``): they
    add nothing to the name and the description, and read as typos to a model."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


# --------------------------------------------------------------------------- AWS clients


class _Clients:
    """boto3 clients per region, created once (creation is not thread-safe; use is)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}

    def get(self, region: str, purpose: Literal["control", "sync"]) -> Any:
        with self._lock:
            key = (region, purpose)
            if key not in self._clients:
                self._clients[key] = _make_client(region, purpose)
            return self._clients[key]


def endpoint_overridden(env: Mapping[str, str] = os.environ) -> bool:
    return bool(env.get("AWS_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL_SFN"))


def _make_client(region: str, purpose: Literal["control", "sync"]) -> Any:
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {"user_agent_extra": "sfn-mcp"}
    if purpose == "sync":
        # One attempt only: botocore would otherwise resend StartSyncExecution after a read
        # timeout or a 5xx and start a duplicate execution.
        options.update(
            connect_timeout=10, read_timeout=EXPRESS_READ_TIMEOUT, retries={"total_max_attempts": 1}
        )
    else:
        # Short timeouts keep a STANDARD call's wait near its bound when the network misbehaves.
        options.update(
            connect_timeout=10, read_timeout=30, retries={"mode": "standard", "max_attempts": 3}
        )
    if endpoint_overridden():
        # botocore prefixes StartSyncExecution's host with "sync-", which breaks endpoint overrides.
        options["inject_host_prefix"] = False
    session = boto3.session.Session()
    return session.client("stepfunctions", region_name=region, config=Config(**options))


CLIENTS = _Clients()


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def _parse_output(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _aws_error(action: str, workflow: Workflow, exc: Exception) -> WorkflowError:
    from botocore.exceptions import ClientError, ReadTimeoutError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        text = f"{action} on {workflow.name} failed: {code}: {error.get('Message', '')}"
        hint = {
            "AccessDeniedException": "the server's AWS credentials lack permission for this "
            f"call on {workflow.arn}",
            "StateMachineDoesNotExist": "the state machine was deleted or renamed; regenerate "
            "the server with `sfn-mcp generate`",
            "ThrottlingException": "AWS is throttling requests; try again shortly",
            "ExecutionLimitExceeded": "too many executions are running; try again later",
            "InvalidExecutionInput": "the input was rejected by Step Functions",
        }.get(code)
    elif isinstance(exc, ReadTimeoutError):
        text = f"{action} on {workflow.name}: no response in time ({exc})"
        hint = "the execution may still be running; it was not retried to avoid a duplicate"
    else:
        text = f"{action} on {workflow.name} failed: {type(exc).__name__}: {exc}"
        hint = "check the AWS credentials, region and endpoint of the server process"
    return WorkflowError(f"{text}\nHint: {hint}" if hint else text)


_AWS_THREADS: anyio.CapacityLimiter | None = None


def _aws_threads() -> anyio.CapacityLimiter:
    """Worker threads for AWS calls, apart from anyio's default pool: the stdio transport uses
    that one, and EXPRESS calls may hold a thread for minutes."""
    global _AWS_THREADS
    if _AWS_THREADS is None:
        _AWS_THREADS = anyio.CapacityLimiter(100)
    return _AWS_THREADS


def _invoke(region: str, purpose: Literal["control", "sync"], action: str, kwargs: Any) -> Any:
    # Runs in a worker thread: creating the client (credential resolution) may do I/O too.
    return getattr(CLIENTS.get(region, purpose), action)(**kwargs)


async def _call(
    workflow: Workflow, purpose: Literal["control", "sync"], action: str, **kwargs: Any
) -> dict[str, Any]:
    """Run one boto3 call in a worker thread so the event loop keeps serving other requests."""
    from botocore.exceptions import BotoCoreError, ClientError

    call = partial(_invoke, workflow.region, purpose, action, kwargs)
    try:
        result: dict[str, Any] = await anyio.to_thread.run_sync(call, limiter=_aws_threads())
    except (BotoCoreError, ClientError) as exc:
        label = "".join(part.title() for part in action.split("_"))
        raise _aws_error(label, workflow, exc) from exc
    return result


# --------------------------------------------------------------------------- running workflows


def max_wait_seconds(workflow: Workflow, env: Mapping[str, str] = os.environ) -> float:
    raw = env.get("SFN_MCP_MAX_WAIT_SECONDS", "").strip()
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if 0 <= value < float("inf"):
            return value
        logger.warning("ignoring SFN_MCP_MAX_WAIT_SECONDS=%r: not a number of seconds >= 0", raw)
    return workflow.max_wait_seconds


def event_envelope(
    detail: BaseModel, *, workflow: Workflow, source: str, detail_type: str
) -> dict[str, Any]:
    """The EventBridge event a rule would deliver to the workflow, around ``detail``."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": workflow.account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": workflow.region,
        "resources": [],
        "detail": workflow_input(detail),
    }


def workflow_input(model: BaseModel) -> Any:
    """The JSON the workflow receives: names as the schema spells them, defaults filled in,
    and optional fields the caller left out still absent (not null)."""
    return model.model_dump(mode="json", by_alias=True)


async def run_workflow(workflow: Workflow, payload: Any) -> ExecutionResult:
    """Start the workflow with ``payload`` and return its outcome (or RUNNING after the wait)."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    size = len(text.encode())
    if size > MAX_INPUT_BYTES:
        raise WorkflowError(
            f"input is {size} bytes; Step Functions accepts at most {MAX_INPUT_BYTES} bytes"
        )
    name = str(uuid.uuid4())  # named, so botocore's retries of StartExecution are idempotent
    if workflow.type == "EXPRESS":
        response = await _call(
            workflow, "sync", "start_sync_execution",
            stateMachineArn=workflow.arn, name=name, input=text,
        )  # fmt: skip
        return _result(response)
    started = await _call(
        workflow, "control", "start_execution", stateMachineArn=workflow.arn, name=name, input=text
    )
    return await _wait(workflow, started["executionArn"], max_wait_seconds(workflow))


async def _wait(workflow: Workflow, execution_arn: str, limit: float) -> ExecutionResult:
    deadline = time.monotonic() + limit
    delay = FIRST_POLL_SECONDS
    while True:
        try:
            described = await _call(
                workflow, "control", "describe_execution", executionArn=execution_arn
            )
        except WorkflowError as exc:
            raise WorkflowError(
                f"{exc}\nThe execution was started and may still be running: {execution_arn}. "
                "Check it before starting the workflow again."
            ) from exc
        if described.get("status") in TERMINAL:
            return _result(described)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return ExecutionResult(
                status="RUNNING",
                execution_arn=execution_arn,
                start_date=_iso(described.get("startDate")),
                message=f"still running after {limit:g} s; the execution goes on in AWS. "
                "Check it later with the execution ARN.",
            )
        await anyio.sleep(min(delay, remaining))
        delay = min(delay * 1.6, MAX_POLL_SECONDS)


def _result(response: Mapping[str, Any]) -> ExecutionResult:
    return ExecutionResult(
        status=str(response.get("status", "UNKNOWN")),
        execution_arn=response.get("executionArn"),
        output=_parse_output(response.get("output"))
        if response.get("status") == "SUCCEEDED"
        else None,
        error=response.get("error"),
        cause=response.get("cause"),
        start_date=_iso(response.get("startDate")),
        stop_date=_iso(response.get("stopDate")),
    )


# --------------------------------------------------------------------------- MCP server


def _text_result(text: str, *, data: dict[str, Any] | None = None, error: bool) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=data, is_error=error
    )


def tool_result(tool_name: str, workflow_result: ExecutionResult) -> CallToolResult:
    data = workflow_result.as_dict()
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if not workflow_result.is_error:
        text = f"{workflow_result.message}\n{body}" if workflow_result.message else body
        return _text_result(text, data=data, error=False)
    headline = f"{tool_name}: the execution ended {workflow_result.status}"
    if workflow_result.error:
        headline += f" with error {workflow_result.error}"
    if workflow_result.cause:
        headline += f": {workflow_result.cause}"
    return _text_result(f"{headline}\n{body}", data=data, error=True)


MAX_REPORTED_ERRORS = 20


def validation_message(tool: Tool[Any], exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    lines = [f"Invalid arguments for {tool.name}; nothing was started:"]
    for error in errors[:MAX_REPORTED_ERRORS]:
        where = ".".join(str(part) for part in error["loc"]) or "(arguments)"
        lines.append(f"- {where}: {error['msg']}")
    if len(errors) > MAX_REPORTED_ERRORS:
        lines.append(f"- … and {len(errors) - MAX_REPORTED_ERRORS} more")
    if any(e["type"] == "extra_forbidden" and len(e["loc"]) == 1 for e in errors):
        known = ", ".join(tool.input_schema.get("properties", {}))
        lines.append(f"Arguments this tool takes: {known}")
    return "\n".join(lines)


def _decode_json_strings(arguments: dict[str, Any], exc: ValidationError) -> dict[str, Any]:
    """Some clients send object or array arguments as JSON text. For the top-level arguments that
    failed validation only, decode string values that look like a JSON object or array."""
    failed = {error["loc"][0] for error in exc.errors() if error["loc"]}
    decoded = dict(arguments)
    for key in failed:
        value = arguments.get(str(key))
        if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
            with contextlib.suppress(ValueError):
                decoded[str(key)] = json.loads(value)
    return decoded


def build_server(
    name: str, *, version: str, instructions: str, tools: tuple[Tool[Any], ...]
) -> Server[Any]:
    by_name = {tool.name: tool for tool in tools}
    listing = ListToolsResult(
        tools=[
            McpTool(
                name=tool.name,
                title=tool.title,
                description=tool.description,
                input_schema=tool.input_schema,
            )
            for tool in tools
        ]
    )

    async def list_tools(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        return listing

    async def call_tool(
        ctx: ServerRequestContext[Any], params: CallToolRequestParams
    ) -> CallToolResult:
        tool = by_name.get(params.name)
        if tool is None:
            known = ", ".join(sorted(by_name))
            return _text_result(f"Unknown tool {params.name!r}. Tools: {known}", error=True)
        arguments = dict(params.arguments or {})
        try:
            model = tool.input_model.model_validate(arguments)
        except ValidationError as exc:
            decoded = _decode_json_strings(arguments, exc)
            try:
                model = tool.input_model.model_validate(decoded)
            except ValidationError as retry:
                # report against what the decoding made of the arguments, if it changed anything
                reported = retry if decoded != arguments else exc
                return _text_result(validation_message(tool, reported), error=True)
        try:
            outcome = await tool.run(model)
        except WorkflowError as exc:
            return _text_result(f"{tool.name}: {exc}", error=True)
        except Exception as exc:  # a bug must still answer the call, not drop the session
            logger.exception("tool %s failed", tool.name)
            return _text_result(
                f"{tool.name}: internal error in the server: {type(exc).__name__}: {exc}",
                error=True,
            )
        return tool_result(tool.name, outcome)

    return Server(
        name,
        version=version,
        instructions=instructions,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def main(server: Server[Any], argv: list[str] | None = None, *, prog: str | None = None) -> None:
    """Command line of a generated server: stdio by default, or streamable HTTP."""
    parser = argparse.ArgumentParser(prog=prog, description=f"MCP server {server.name}")
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP only (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP only (default 8000)")
    parser.add_argument(
        "--stateless", action="store_true", help="HTTP only: no session state between requests"
    )
    args = parser.parse_args(argv)
    level = os.environ.get("SFN_MCP_LOG_LEVEL", "WARNING").upper()
    known_level = level in logging.getLevelNamesMapping()
    logging.basicConfig(
        level=level if known_level else "WARNING",
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not known_level:
        logger.warning("ignoring SFN_MCP_LOG_LEVEL=%r: use DEBUG, INFO, WARNING or ERROR", level)
    if args.transport == "http":
        import uvicorn

        if args.host not in LOOPBACK:
            logger.warning(
                "serving on %s: this server has no authentication; anyone who reaches the port "
                "can run the workflows with this process's AWS credentials",
                args.host,
            )
        app = server.streamable_http_app(stateless_http=args.stateless, host=args.host)
        host = f"[{args.host}]" if ":" in args.host else args.host
        print(f"{server.name}: serving MCP at http://{host}:{args.port}/mcp", file=sys.stderr)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        return

    async def serve_stdio() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(serve_stdio)
