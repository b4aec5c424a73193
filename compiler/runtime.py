"""Runtime shared by every MCP server that sfn-mcp generates.

sfn-mcp copies this file unchanged into each generated package as ``_runtime.py``; it imports
only the standard library, ``mcp``, ``pydantic``, ``jsonschema`` and ``boto3``, so a generated
server runs without the compiler installed. It:

* serves the tools over MCP with the low-level ``Server``, so each tool's ``inputSchema`` is the
  workflow input's own JSON Schema (no wrapper key), and validates arguments before any AWS call;
* runs EXPRESS workflows with StartSyncExecution in a worker thread, never retried (a retried
  StartSyncExecution starts a second execution);
* runs STANDARD workflows with StartExecution, then polls DescribeExecution with backoff up to a
  bounded wait, sending progress notifications (with the current state's name) when the client
  asked for them, and returns RUNNING and the execution ARN if the workflow is still going;
* takes an optional ``idempotency_key`` on STANDARD tools: it becomes the execution name, so a
  retried call finds the execution the first call started instead of starting another;
* stops polling when the client cancels a call, and stops the execution too where the workflow
  says ``stop_on_cancel``;
* serves ``get_execution``, which follows up an execution of this server's own state machines
  (and refuses any other ARN);
* publishes an ``outputSchema`` per tool and returns matching ``structuredContent``; where the
  workflow's output is typed, a SUCCEEDED output that does not match is an error, not data;
* turns FAILED / TIMED_OUT / ABORTED executions and AWS errors into ``isError`` results that say
  what happened and what to do.

Environment: the usual boto3 variables (``AWS_PROFILE``, credentials, ``AWS_ENDPOINT_URL`` …), plus
``SFN_MCP_MAX_WAIT_SECONDS`` (overrides every STANDARD workflow's bounded wait),
``SFN_MCP_LOG_LEVEL`` (default ``WARNING``; logs go to stderr) and ``SFN_MCP_HTTP_TOKEN`` (HTTP
requests must carry ``Authorization: Bearer <token>``).
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import json
import logging
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
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
    ToolAnnotations,
)
from mcp.types import Tool as McpTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import GenerateJsonSchema

logger = logging.getLogger("sfn_mcp.runtime")

WorkflowType = Literal["STANDARD", "EXPRESS"]
ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_INPUT_BYTES = 256 * 1024  # Step Functions' limit on execution input
EXPRESS_READ_TIMEOUT = 360.0  # above the 5-minute Express limit, so a long run is not cut off
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
FIRST_POLL_SECONDS = 0.2
MAX_POLL_SECONDS = 5.0
MAX_WAIT_SECONDS = 3600.0  # no MCP client keeps a call open longer
STOP_TIMEOUT_SECONDS = 15.0
STATUS_TOOL = "get_execution"
IDEMPOTENCY_ARGUMENT = "idempotency_key"
# Step Functions execution names: 1-80 characters; this subset is also safe in logs and URLs.
EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
EXECUTION_ARN = re.compile(
    r"^(?P<prefix>arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}):execution:(?P<machine>[^:]+):[^:]+$"
)
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")


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
    stop_on_cancel: bool = False

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    def execution_arn(self, name: str) -> str:
        """The ARN Step Functions gives a STANDARD execution of this machine named ``name``."""
        prefix, _, machine = self.arn.rpartition(":stateMachine:")
        return f"{prefix}:execution:{machine}:{name}"

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
        return self.status not in ("SUCCEEDED", "RUNNING", "PENDING_REDRIVE")

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

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code  # the AWS error code, when there is one


@dataclass(frozen=True)
class Hints:
    """The tool's MCP annotations (behaviour hints for the client), under readable names."""

    read_only: bool = False
    destructive: bool = True
    idempotent: bool = False
    open_world: bool = True

    def annotations(self, title: str) -> ToolAnnotations:
        return ToolAnnotations(
            title=title,
            read_only_hint=self.read_only,
            destructive_hint=self.destructive,
            idempotent_hint=self.idempotent,
            open_world_hint=self.open_world,
        )


@dataclass(frozen=True)
class Tool(Generic[ModelT]):
    """One MCP tool: its public contract plus the typed function that runs it.

    ``workflow`` is the state machine the tool runs (None for get_execution). ``run`` takes the
    validated input model and, for STANDARD workflows, the keyword ``idempotency_key``.
    ``output_model`` types a SUCCEEDED execution's output, if known.
    """

    name: str
    title: str
    description: str
    workflow: Workflow | None
    input_model: type[ModelT]
    run: Callable[..., Awaitable[ExecutionResult]]
    output_model: type[BaseModel] | None = None
    hints: Hints = Hints()
    input_schema: dict[str, Any] = field(init=False, repr=False)
    output_schema: dict[str, Any] = field(init=False, repr=False)
    # Checks the published schema where it says more than the model (uniqueItems), else None.
    schema_validator: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        schema = self.input_model.model_json_schema(by_alias=True, schema_generator=_NoFieldTitles)
        if self.takes_idempotency_key:
            properties = schema.setdefault("properties", {})
            if IDEMPOTENCY_ARGUMENT in properties:
                raise ValueError(f"{self.name}: the input already has {IDEMPOTENCY_ARGUMENT!r}")
            properties[IDEMPOTENCY_ARGUMENT] = IDEMPOTENCY_KEY_SCHEMA
        object.__setattr__(self, "input_schema", schema)
        object.__setattr__(self, "output_schema", result_schema(self.output_model))
        object.__setattr__(self, "schema_validator", _beyond_the_model(schema))

    @property
    def takes_idempotency_key(self) -> bool:
        """STANDARD workflow tools do; EXPRESS ones and get_execution do not."""
        return self.workflow is not None and self.workflow.type == "STANDARD"


IDEMPOTENCY_KEY_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": EXECUTION_NAME.pattern,
    "description": "Optional. Becomes the execution's name: calling again with the same key and "
    "the same arguments returns that execution instead of starting another. Use a new key "
    "for a new request (letters, digits, - and _; at most 80).",
}


def result_schema(output_model: type[BaseModel] | None) -> dict[str, Any]:
    """The JSON Schema of every tool result's ``structuredContent``; ``output`` is typed by the
    workflow's output model when there is one, and any JSON otherwise."""
    defs: dict[str, Any] = {}
    output: dict[str, Any] = {"description": "The workflow's output when it SUCCEEDED, else null."}
    if output_model is not None:
        typed = output_model.model_json_schema(by_alias=True, schema_generator=_NoFieldTitles)
        defs.update(typed.pop("$defs", {}))
        if set(typed) != {"$ref"}:
            key = output_model.__name__
            while key in defs:
                key += "_"
            defs[key] = typed
            typed = {"$ref": f"#/$defs/{key}"}
        output["anyOf"] = [typed, {"type": "null"}]
    else:  # any JSON value, spelt out: clients read a schema without a type as a mistake
        output["anyOf"] = [{"type": t} for t in JSON_TYPES]
    text = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": list(STATUSES)},
            "executionArn": {**text, "description": "Give it to get_execution to follow up."},
            "output": output,
            "error": {**text, "description": "Error name when the execution did not succeed."},
            "cause": {**text, "description": "What went wrong, when the execution failed."},
            "startDate": {**text, "format": "date-time"},
            "stopDate": {**text, "format": "date-time"},
        },
        "required": list(RESULT_FIELDS),
    }
    if defs:
        schema["$defs"] = defs
    return schema


JSON_TYPES = ("object", "array", "string", "number", "boolean", "null")
RESULT_FIELDS = ("status", "executionArn", "output", "error", "cause", "startDate", "stopDate")


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

    # One client per region and purpose serves every concurrent call: boto3 clients are
    # thread-safe, and the pool matches the worker threads so no connection is thrown away.
    options: dict[str, Any] = {"user_agent_extra": "sfn-mcp", "max_pool_connections": AWS_THREADS}
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
            "ExecutionDoesNotExist": "check the execution ARN; executions are kept 90 days "
            "after they end",
        }.get(code)
        return WorkflowError(f"{text}\nHint: {hint}" if hint else text, code)
    elif isinstance(exc, ReadTimeoutError):
        text = f"{action} on {workflow.name}: no response in time ({exc})"
        hint = "the execution may still be running; it was not retried to avoid a duplicate"
    else:
        text = f"{action} on {workflow.name} failed: {type(exc).__name__}: {exc}"
        hint = "check the AWS credentials, region and endpoint of the server process"
    return WorkflowError(f"{text}\nHint: {hint}" if hint else text)


AWS_THREADS = 100
_LIMITERS: dict[str, anyio.CapacityLimiter] = {}


def _aws_threads(purpose: Literal["control", "sync"]) -> anyio.CapacityLimiter:
    """Worker threads for AWS calls, apart from anyio's default pool (the stdio transport uses
    that one), and one pool per purpose: EXPRESS calls may hold a thread for minutes, and must
    not keep STANDARD polls and get_execution waiting."""
    if purpose not in _LIMITERS:
        _LIMITERS[purpose] = anyio.CapacityLimiter(AWS_THREADS)
    return _LIMITERS[purpose]


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
        # abandon_on_cancel: a cancelled call stops waiting at once; the thread finishes alone.
        result: dict[str, Any] = await anyio.to_thread.run_sync(
            call, limiter=_aws_threads(purpose), abandon_on_cancel=True
        )
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
        if 0 <= value <= MAX_WAIT_SECONDS:
            return value
        logger.warning(
            "ignoring SFN_MCP_MAX_WAIT_SECONDS=%r: not a number of seconds from 0 to %g",
            raw,
            MAX_WAIT_SECONDS,
        )
    return workflow.max_wait_seconds


class EventEnvelope(dict[str, Any]):
    """An EventBridge event built by this server (its ``id`` and ``time`` are made per call)."""


def event_envelope(
    detail: BaseModel, *, workflow: Workflow, source: str, detail_type: str
) -> dict[str, Any]:
    """The EventBridge event a rule would deliver to the workflow, around ``detail``."""
    return EventEnvelope(
        {
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
    )


def workflow_input(model: BaseModel) -> Any:
    """The JSON the workflow receives: names as the schema spells them, defaults filled in,
    and optional fields the caller left out still absent (not null)."""
    return model.model_dump(mode="json", by_alias=True)


Progress = Callable[[float, float | None, str | None], Awaitable[None]]
# How the current tool call reports progress; set by the server only when the client asked.
PROGRESS: ContextVar[Progress | None] = ContextVar("sfn_mcp_progress", default=None)


async def _report(progress: float, total: float | None, message: str) -> None:
    report = PROGRESS.get()
    if report is None:
        return
    try:
        await report(progress, total, message)
    except Exception:  # a client that went away must not fail the call
        logger.debug("progress notification not sent", exc_info=True)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _same_input(existing: Any, payload: Any) -> bool:
    """Whether an execution found under the idempotency key was started with this input, as
    JSON (so 1 and true differ). The ``id`` and ``time`` of an event this server built are made
    per call, so they are not compared."""
    try:
        found = json.loads(existing) if isinstance(existing, str) else existing
    except ValueError:
        return False
    if isinstance(payload, EventEnvelope) and isinstance(found, dict):
        volatile = ("id", "time")
        found = {k: v for k, v in found.items() if k not in volatile}
        payload = {k: v for k, v in payload.items() if k not in volatile}
    return _canonical(found) == _canonical(payload)


async def run_workflow(
    workflow: Workflow, payload: Any, *, idempotency_key: str | None = None
) -> ExecutionResult:
    """Start the workflow with ``payload`` and return its outcome (or RUNNING after the wait).

    ``idempotency_key`` (STANDARD only) becomes the execution name: if an execution of that name
    exists with the same input, it is followed instead of starting another; with other input,
    the call is refused.
    """
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    size = len(text.encode())
    if size > MAX_INPUT_BYTES:
        raise WorkflowError(
            f"input is {size} bytes; Step Functions accepts at most {MAX_INPUT_BYTES} bytes"
        )
    if workflow.type == "EXPRESS":
        if idempotency_key is not None:
            raise WorkflowError(
                f"{workflow.name} is an EXPRESS workflow: Step Functions does not deduplicate "
                "EXPRESS executions by name, so it takes no idempotency key"
            )
        await _report(0, None, f"running the EXPRESS workflow {workflow.name}")
        response = await _call(
            workflow, "sync", "start_sync_execution",
            stateMachineArn=workflow.arn, name=str(uuid.uuid4()), input=text,
        )  # fmt: skip
        return _result(response)
    if idempotency_key is not None and not EXECUTION_NAME.match(idempotency_key):
        raise WorkflowError(
            f"{IDEMPOTENCY_ARGUMENT} {idempotency_key!r} is not usable as an execution name: "
            "use 1 to 80 letters, digits, - and _"
        )
    # Always named, so botocore's retries of StartExecution are idempotent too.
    name = idempotency_key or str(uuid.uuid4())
    execution_arn = workflow.execution_arn(name)
    limit = max_wait_seconds(workflow)
    reused = started_here = False
    try:
        # Looked up first: on AWS, a start with the name and input of a RUNNING execution
        # succeeds and would not say that it started nothing.
        if idempotency_key is not None:
            reused = await _existing(workflow, execution_arn, name, payload)
        if not reused:
            started_here = True  # from here on, a cancel may have to stop what this call starts
            execution_arn, reused = await _start(workflow, execution_arn, name, text, payload)
            started_here = not reused
        result = await _wait(workflow, execution_arn, limit)
    except anyio.get_cancelled_exc_class():
        await _on_cancel(workflow, execution_arn, started_here=started_here)
        raise
    if reused:
        note = (
            f"An execution named {name!r} was already started with these arguments; this is "
            "that execution (no new one was started)."
        )
        message = f"{note} {result.message}" if result.message else note
        result = replace(result, message=message)
    return result


async def _existing(workflow: Workflow, execution_arn: str, name: str, payload: Any) -> bool:
    """Whether an execution of this name exists with this input; another input is an error."""
    try:
        existing = await _call(
            workflow, "control", "describe_execution", executionArn=execution_arn
        )
    except WorkflowError as exc:
        if exc.code == "ExecutionDoesNotExist":
            return False
        raise
    if not _same_input(existing.get("input"), payload):
        raise WorkflowError(
            f"the {IDEMPOTENCY_ARGUMENT} {name!r} was already used for an execution of "
            f"{workflow.name} with other arguments ({execution_arn}, status "
            f"{existing.get('status')}); nothing was started.\nHint: use a new key for a new "
            "request, or the same arguments to get that execution's result",
            "ExecutionAlreadyExists",
        )
    return True


async def _start(
    workflow: Workflow, execution_arn: str, name: str, text: str, payload: Any
) -> tuple[str, bool]:
    """StartExecution: the execution's ARN, and whether it existed already (same name and
    input: a concurrent call with the same key, or botocore's retry of a start that worked)."""
    try:
        started = await _call(
            workflow, "control", "start_execution",
            stateMachineArn=workflow.arn, name=name, input=text,
        )  # fmt: skip
        return str(started.get("executionArn") or execution_arn), False
    except WorkflowError as exc:
        if exc.code != "ExecutionAlreadyExists" or not await _existing(
            workflow, execution_arn, name, payload
        ):
            raise
    return execution_arn, True


async def _on_cancel(workflow: Workflow, execution_arn: str, *, started_here: bool) -> None:
    """The client cancelled the call: polling has stopped. Stop the execution if the workflow
    says so and this call started it (a retry must not stop the first call's execution)."""
    if not (workflow.stop_on_cancel and started_here):
        logger.info("call cancelled; %s keeps running in AWS", execution_arn)
        return
    with anyio.move_on_after(STOP_TIMEOUT_SECONDS, shield=True):
        while True:
            try:
                await _call(
                    workflow, "control", "stop_execution", executionArn=execution_arn,
                    error="sfn-mcp.Cancelled", cause="The MCP client cancelled the tool call.",
                )  # fmt: skip
                logger.info("call cancelled; stopped %s", execution_arn)
                return
            except WorkflowError as exc:
                if exc.code != "ExecutionDoesNotExist":
                    logger.warning("call cancelled; could not stop %s: %s", execution_arn, exc)
                    return
            # Cancelled while StartExecution was in flight: the start may still land.
            await anyio.sleep(0.5)
    logger.warning("call cancelled; %s did not appear to be stopped", execution_arn)


async def _current_state(workflow: Workflow, execution_arn: str) -> str | None:
    """The state the execution last entered, from the newest history events (one call)."""
    try:
        history = await _call(
            workflow, "control", "get_execution_history",
            executionArn=execution_arn, reverseOrder=True, maxResults=20,
        )  # fmt: skip
    except WorkflowError as exc:  # e.g. no permission for the history: progress without names
        logger.debug("no state name for %s: %s", execution_arn, exc)
        return None
    for event in history.get("events", []):
        entered = event.get("stateEnteredEventDetails")
        if isinstance(entered, dict) and entered.get("name"):
            return str(entered["name"])
    return None


async def _wait(
    workflow: Workflow, execution_arn: str, limit: float, *, started: bool = True
) -> ExecutionResult:
    """Poll until the execution ends or ``limit`` seconds pass. ``started``: this call started
    it (so a failed poll says it may still be running), rather than following one up."""
    begun = time.monotonic()
    deadline = begun + limit
    delay = FIRST_POLL_SECONDS
    reported = -1.0
    while True:
        logger.debug("polling %s", execution_arn)
        try:
            described = await _call(
                workflow, "control", "describe_execution", executionArn=execution_arn
            )
        except WorkflowError as exc:
            if not started:
                raise
            raise WorkflowError(
                f"{exc}\nThe execution was started and may still be running: {execution_arn}. "
                f"Check it with {STATUS_TOOL} before starting the workflow again.",
                exc.code,
            ) from exc
        status = str(described.get("status"))
        if status in TERMINAL:
            return _result(described)
        remaining = deadline - time.monotonic()
        if PROGRESS.get() is not None and limit > 0:
            state = await _current_state(workflow, execution_arn)
            # progress must increase and stay within the total
            elapsed = round(min(time.monotonic() - begun, limit), 3)
            if elapsed > reported:
                reported = elapsed
                where = f" in state {state}" if state else ""
                await _report(
                    elapsed, limit, f"{workflow.name}: {status}{where} after {elapsed:.1f} s"
                )
        if remaining <= 0:
            waited = f"after {limit:g} s" if limit > 0 else "now"
            return ExecutionResult(
                status=status if status in STATUSES else "RUNNING",
                execution_arn=execution_arn,
                start_date=_iso(described.get("startDate")),
                message=f"{status} {waited}; the execution goes on in AWS. "
                f"Follow it up with {STATUS_TOOL} and the execution ARN.",
            )
        await anyio.sleep(min(delay, remaining))
        delay = min(delay * 1.6, MAX_POLL_SECONDS)


async def execution_status(
    workflows: tuple[Workflow, ...], execution_arn: str, wait_seconds: float = 0
) -> ExecutionResult:
    """Status, output or error of an execution of one of ``workflows``, waiting for it to end up
    to ``wait_seconds`` (capped by the workflow's own wait). Other ARNs are refused."""
    match = EXECUTION_ARN.match(execution_arn.strip())
    owner = None
    if match:
        machine_arn = f"{match['prefix']}:stateMachine:{match['machine']}"
        owner = next((w for w in workflows if w.arn == machine_arn), None)
    if owner is None:
        names = ", ".join(sorted(w.name for w in workflows if w.type == "STANDARD")) or "none"
        raise WorkflowError(
            f"refused: {execution_arn!r} is not an execution of this server's STANDARD "
            f"workflows ({names}); {STATUS_TOOL} only reads executions of its own workflows"
        )
    if owner.type == "EXPRESS":
        raise WorkflowError(
            f"{owner.name} is an EXPRESS workflow: its tool returns the result in the call itself, "
            "and Step Functions keeps no status to read back"
        )
    limit = min(wait_seconds, max_wait_seconds(owner))
    return await _wait(owner, execution_arn.strip(), limit, started=False)


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


def _output_problem(model: type[BaseModel], output: Any) -> str | None:
    """Why ``output`` does not match the output model (JSON rules: no coercion), or None."""
    try:
        model.model_validate_json(json.dumps(output), strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        lines = [
            f"- {'.'.join(str(p) for p in e['loc']) or '(output)'}: {e['msg']}"
            for e in errors[:MAX_REPORTED_ERRORS]
        ]
        if len(errors) > MAX_REPORTED_ERRORS:
            lines.append(f"- … and {len(errors) - MAX_REPORTED_ERRORS} more")
        return "\n".join(lines)
    return None


def tool_result(
    tool_name: str, outcome: ExecutionResult, output_model: type[BaseModel] | None = None
) -> CallToolResult:
    data = outcome.as_dict()
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if outcome.status == "SUCCEEDED" and output_model is not None:
        problem = _output_problem(output_model, outcome.output)
        if problem:
            headline = (
                f"{tool_name}: the execution SUCCEEDED, but its output does not match the "
                f"output schema ({output_model.__name__}) this server was generated with:"
            )
            hint = (
                "Hint: the workflow or its output schema changed; regenerate the server, or fix "
                "the workflow."
            )
            return _text_result(f"{headline}\n{problem}\n{hint}\n{body}", data=data, error=True)
    if not outcome.is_error:
        text = f"{outcome.message}\n{body}" if outcome.message else body
        return _text_result(text, data=data, error=False)
    headline = f"{tool_name}: the execution ended {outcome.status}"
    if outcome.error:
        headline += f" with error {outcome.error}"
    if outcome.cause:
        headline += f": {outcome.cause}"
    return _text_result(f"{headline}\n{body}", data=data, error=True)


MAX_REPORTED_ERRORS = 20


def _invalid(tool: Tool[Any]) -> str:
    started = "; nothing was started" if tool.workflow else ""
    return f"Invalid arguments for {tool.name}{started}:"


def validation_message(tool: Tool[Any], exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    lines = [_invalid(tool)]
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


class ExecutionQuery(BaseModel):
    """Arguments of the status tool."""

    model_config = ConfigDict(extra="forbid", title="GetExecution")

    execution_arn: str = Field(
        description="The executionArn a workflow tool returned (status RUNNING)."
    )
    wait_seconds: float = Field(
        default=0,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="Wait up to this long for the execution to end (capped by the workflow's own "
        "wait); 0 answers at once.",
    )


def status_tool(tools: tuple[Tool[Any], ...]) -> Tool[ExecutionQuery]:
    """``get_execution``: follows up executions of the server's own STANDARD workflows."""
    workflows = tuple(tool.workflow for tool in tools if tool.workflow)

    async def run(query: ExecutionQuery) -> ExecutionResult:
        return await execution_status(workflows, query.execution_arn, query.wait_seconds)

    names = ", ".join(sorted(t.name for t in tools if t.takes_idempotency_key)) or "none"
    return Tool(
        name=STATUS_TOOL,
        title="Get execution",
        description="Status, output or error of an execution of this server's STANDARD workflows "
        f"({names}), e.g. one that a tool returned with status RUNNING. It reads any execution "
        "of those state machines, whoever started it, and refuses every other ARN.",
        workflow=None,
        input_model=ExecutionQuery,
        run=run,
        hints=Hints(read_only=True, destructive=False, idempotent=True, open_world=False),
    )


def _listed(tool: Tool[Any]) -> McpTool:
    return McpTool(
        name=tool.name,
        title=tool.title,
        description=tool.description,
        input_schema=tool.input_schema,
        output_schema=tool.output_schema,
        annotations=tool.hints.annotations(tool.title),
    )


def _validate(tool: Tool[Any], arguments: dict[str, Any]) -> BaseModel | str:
    """The input model, or the message that says which arguments are wrong. The model checks
    first; then the published schema, for what pydantic does not enforce (``uniqueItems``)."""
    model: type[BaseModel] = tool.input_model
    try:
        validated = model.model_validate(arguments)
    except ValidationError as exc:
        decoded = _decode_json_strings(arguments, exc)
        try:
            validated = model.model_validate(decoded)
        except ValidationError as retry:
            # report against what the decoding made of the arguments, if it changed anything
            return validation_message(tool, retry if decoded != arguments else exc)
        arguments = decoded
    problems = _schema_problems(tool, arguments)
    if problems:
        return "\n".join([_invalid(tool), *problems[:MAX_REPORTED_ERRORS]])
    return validated


def _beyond_the_model(schema: dict[str, Any]) -> Any:
    """A JSON Schema validator when ``schema`` has keywords pydantic does not enforce."""
    if '"uniqueItems"' not in json.dumps(schema):
        return None
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema)


def _schema_problems(tool: Tool[Any], arguments: dict[str, Any]) -> list[str]:
    validator = tool.schema_validator
    if validator is None:
        return []
    return [
        f"- {'.'.join(str(p) for p in error.absolute_path) or '(arguments)'}: {error.message}"
        for error in sorted(validator.iter_errors(arguments), key=lambda e: str(list(e.path)))
    ]


def served_tools(tools: tuple[Tool[Any], ...]) -> tuple[Tool[Any], ...]:
    """Every tool the server offers: the workflow tools and the status tool."""
    return (*tools, status_tool(tools))


def tools_list(tools: tuple[Tool[Any], ...]) -> list[dict[str, Any]]:
    """What ``tools/list`` answers, as JSON (sfn-mcp writes it into surface.json)."""
    return [
        _listed(tool).model_dump(mode="json", by_alias=True, exclude_none=True)
        for tool in served_tools(tools)
    ]


def build_server(
    name: str, *, version: str, instructions: str, tools: tuple[Tool[Any], ...]
) -> Server[Any]:
    served = served_tools(tools)
    by_name = {tool.name: tool for tool in served}
    output_models = {tool.workflow.arn: tool.output_model for tool in tools if tool.workflow}
    listing = ListToolsResult(tools=[_listed(tool) for tool in served])

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
        options: dict[str, Any] = {}
        key = arguments.pop(IDEMPOTENCY_ARGUMENT, None) if tool.takes_idempotency_key else None
        if key is not None:
            if not (isinstance(key, str) and EXECUTION_NAME.match(key)):
                return _text_result(
                    f"{_invalid(tool)}\n"
                    f"- {IDEMPOTENCY_ARGUMENT}: must be 1 to 80 letters, digits, - and _",
                    error=True,
                )
            options["idempotency_key"] = key
        model = _validate(tool, arguments)
        if isinstance(model, str):
            return _text_result(model, error=True)
        wants_progress = bool(ctx.meta and ctx.meta.get("progress_token") is not None)
        reset = PROGRESS.set(ctx.session.report_progress if wants_progress else None)
        try:
            outcome = await tool.run(model, **options)
        except WorkflowError as exc:
            return _text_result(f"{tool.name}: {exc}", error=True)
        except Exception as exc:  # a bug must still answer the call, not drop the session
            logger.exception("tool %s failed", tool.name)
            return _text_result(
                f"{tool.name}: internal error in the server: {type(exc).__name__}: {exc}",
                error=True,
            )
        finally:
            PROGRESS.reset(reset)
        typed = tool.output_model
        if tool.name == STATUS_TOOL and outcome.execution_arn:
            match = EXECUTION_ARN.match(outcome.execution_arn)
            if match:
                typed = output_models.get(f"{match['prefix']}:stateMachine:{match['machine']}")
        return tool_result(tool.name, outcome, typed)

    return Server(
        name,
        version=version,
        instructions=instructions,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


TOKEN_VARIABLE = "SFN_MCP_HTTP_TOKEN"


class BearerToken:
    """ASGI wrapper: with SFN_MCP_HTTP_TOKEN set, every HTTP request must carry
    ``Authorization: Bearer <token>``; others get 401 before reaching the MCP app."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = b'{"error": "missing or wrong bearer token"}'
                await send({
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"www-authenticate", b"Bearer"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                })  # fmt: skip
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number from 1 to 65535")
    return int(text)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def main(server: Server[Any], argv: list[str] | None = None, *, prog: str | None = None) -> None:
    """Command line of a generated server: stdio by default, or streamable HTTP."""
    parser = argparse.ArgumentParser(prog=prog, description=f"MCP server {server.name}")
    parser.add_argument(
        "--transport",
        choices=("stdio", "http"),
        default="stdio",
        help="stdio (default) for desktop clients, or http for streamable HTTP at /mcp",
    )
    parser.add_argument("--host", help="HTTP only (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, help="HTTP only (default 8000)")
    parser.add_argument(
        "--stateless", action="store_true", help="HTTP only: no session state between requests"
    )
    args = parser.parse_args(argv)
    if args.transport != "http" and (args.host or args.port or args.stateless):
        parser.error("--host, --port and --stateless need --transport http")
    args.host = args.host or "127.0.0.1"
    args.port = args.port or 8000
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

        token = os.environ.get(TOKEN_VARIABLE, "").strip()
        if args.host not in LOOPBACK and not token:
            logger.warning(
                "serving on %s without %s: anyone who reaches the port can run the workflows "
                "with this process's AWS credentials",
                args.host,
                TOKEN_VARIABLE,
            )
        app: Any = server.streamable_http_app(stateless_http=args.stateless, host=args.host)
        if token:
            app = BearerToken(app, token)
        host = f"[{args.host}]" if ":" in args.host else args.host
        guarded = " (bearer token required)" if token else ""
        print(
            f"{server.name}: serving MCP at http://{host}:{args.port}/mcp{guarded}",
            file=sys.stderr,
        )
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        return

    async def serve_stdio() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(serve_stdio)
