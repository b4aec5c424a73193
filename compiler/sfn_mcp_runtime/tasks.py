"""MCP Tasks backed by Step Functions executions, in both protocol eras, with no task store.

A STANDARD execution already is a durable task: its ARN names it, DescribeExecution is its
status, StopExecution its cancel, execution retention (90 days) its TTL, and an approval step
(``approvals``) its question to the user. So the task id is the execution ARN, encoded; every
request decodes it, refuses an id that names no execution of this server's own STANDARD
machines before any AWS call, and asks AWS. Any server process (a restarted one, another
replica) answers for any task.

Two eras, chosen by what the client declares on the request:

* 2026-07-28 and the extension ``io.modelcontextprotocol/tasks`` (SEP-2663): ``tools/call``
  answers ``resultType: "task"``; ``tasks/get`` gives the state with the final ``CallToolResult``
  inline once completed and the approval question as ``inputRequests`` while one waits;
  ``tasks/update`` answers it; ``tasks/cancel`` stops the execution.
* 2025-11-25 with ``params.task`` on ``tools/call`` (SEP-1686, experimental): ``CreateTaskResult``;
  ``tasks/get``; ``tasks/result`` blocks until the execution ends (asking an approval step by
  elicitation meanwhile, where the client can be asked) and returns the ``CallToolResult``;
  ``tasks/cancel``; ``notifications/tasks/status`` while ``tasks/result`` waits.

A finished execution is ``completed`` with exactly the result the synchronous call returns
(``isError`` when it FAILED, TIMED_OUT or was ABORTED), since a tool error is no protocol error.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult

from .approvals import CANCELLED_ERROR, Pending, pending_step, send_reply
from .aws import _call
from .catalog import Named
from .definitions import EXECUTION_ARN, ExecutionResult, WorkflowError, excerpt
from .execution import MAX_POLL_SECONDS, execution_status

logger = logging.getLogger("sfn_mcp.runtime")

EXTENSION = "io.modelcontextprotocol/tasks"
CAPABILITIES_META = "io.modelcontextprotocol/clientCapabilities"
RELATED_TASK_META = "io.modelcontextprotocol/related-task"
MISSING_REQUIRED_CLIENT_CAPABILITY = -32021
# Step Functions keeps a closed STANDARD execution's history for 90 days.
RETENTION_MS = 90 * 24 * 3600 * 1000
TASK_ID_PREFIX = "sfn1."
ResultOf = Callable[[Named, ExecutionResult], CallToolResult]


def task_id(execution_arn: str) -> str:
    """The opaque id of the task an execution is."""
    encoded = base64.urlsafe_b64encode(execution_arn.encode()).decode().rstrip("=")
    return TASK_ID_PREFIX + encoded


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _not_found(value: Any, why: str) -> MCPError:
    return MCPError(
        code=INVALID_PARAMS, message=f"Failed to retrieve task {excerpt(str(value), 100)}: {why}"
    )


def declares_extension(ctx: ServerRequestContext[Any]) -> bool:
    """Whether the client declared the Tasks extension (on this request, or at initialize)."""
    capabilities = ctx.session.client_capabilities
    declared = getattr(capabilities, "extensions", None) or {}
    if EXTENSION in declared:
        return True
    meta = (ctx.params or {}).get("_meta")
    client = meta.get(CAPABILITIES_META) if isinstance(meta, dict) else None
    extensions = client.get("extensions") if isinstance(client, dict) else None
    return isinstance(extensions, dict) and EXTENSION in extensions


def require_extension(ctx: ServerRequestContext[Any]) -> None:
    """2026-07-28 task methods need the extension declared on the request (-32021 otherwise)."""
    if not declares_extension(ctx):
        raise MCPError(
            code=MISSING_REQUIRED_CLIENT_CAPABILITY,
            message="Missing required client capability",
            data={"requiredCapabilities": {"extensions": {EXTENSION: {}}}},
        )


@dataclass(frozen=True)
class State:
    """A task as of one DescribeExecution (and, while it runs, one history read)."""

    task_id: str
    status: str  # working | input_required | completed | cancelled
    created_at: str
    updated_at: str
    poll_interval_ms: int
    message: str
    result: CallToolResult | None = None
    pending: Pending | None = None

    def fields(self, *, era: str) -> dict[str, Any]:
        """The Task object of either era (2025-11-25 ``ttl``/``pollInterval``, 2026 ``…Ms``)."""
        legacy = era == "2025-11-25"
        task: dict[str, Any] = {
            "taskId": self.task_id,
            "status": self.status,
            "statusMessage": self.message,
            "createdAt": self.created_at,
            "lastUpdatedAt": self.updated_at,
            "ttl" if legacy else "ttlMs": RETENTION_MS,
            "pollInterval" if legacy else "pollIntervalMs": self.poll_interval_ms,
        }
        return task

    def detailed(self) -> dict[str, Any]:
        """SEP-2663's DetailedTask: the result inline once completed, the question while one
        waits."""
        task = self.fields(era="2026")
        if self.status == "completed" and self.result is not None:
            task["result"] = self.result.model_dump(mode="json", by_alias=True, exclude_none=True)
        if self.status == "input_required" and self.pending is not None:
            task["inputRequests"] = {
                self.pending.key: {
                    "method": "elicitation/create",
                    "params": {
                        "mode": "form",
                        "message": self.pending.message,
                        "requestedSchema": self.pending.schema,
                    },
                }
            }
        return task


class Tasks:
    """The task side of one server: which tools may become tasks, and the task methods."""

    def __init__(self, tools: tuple[Named, ...], result_of: ResultOf) -> None:
        self.by_machine = {
            tool.workflow.arn: tool
            for tool in tools
            if tool.workflow is not None and tool.workflow.type == "STANDARD"
        }
        self.workflows = tuple(tool.workflow for tool in self.by_machine.values() if tool.workflow)
        self.result_of = result_of

    def may_become_task(self, tool: Named | None) -> bool:
        return tool is not None and tool.workflow is not None and tool.workflow.type == "STANDARD"

    def owner(self, value: Any) -> tuple[Named, str]:
        """The tool and execution ARN a task id names; refused before any AWS call when it
        names no execution of this server's own STANDARD machines."""
        if not isinstance(value, str) or not value.startswith(TASK_ID_PREFIX):
            raise _not_found(value, "not a task of this server")
        encoded = value[len(TASK_ID_PREFIX) :]
        try:
            arn = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise _not_found(value, "not a task of this server") from None
        match = EXECUTION_ARN.match(arn)
        tool = None
        if match and task_id(arn) == value:
            tool = self.by_machine.get(f"{match['prefix']}:stateMachine:{match['machine']}")
        if tool is None:
            raise _not_found(value, "not a task of this server")
        return tool, arn

    async def state(self, value: Any) -> State:
        tool, arn = self.owner(value)
        workflow = tool.workflow
        assert workflow is not None
        try:
            outcome = await execution_status(self.workflows, arn, 0)
        except WorkflowError as exc:
            if exc.code == "ExecutionDoesNotExist":
                raise _not_found(value, "the execution does not exist (or has expired)") from exc
            raise MCPError(code=-32603, message=f"{tool.name}: {exc}") from exc
        interval = int(workflow.poll_interval_seconds * 1000)
        created = outcome.start_date or _now()
        updated = outcome.stop_date or _now()
        if outcome.status in ("RUNNING", "PENDING_REDRIVE"):
            pending = None
            if workflow.approval_steps:
                try:
                    pending = await pending_step(workflow, arn)
                except WorkflowError as exc:
                    logger.warning("cannot tell whether %s waits for a person: %s", arn, exc)
            if pending is not None:
                return State(
                    value, "input_required", created, updated, interval,
                    f"waiting for an answer at step {pending.step.state}", pending=pending,
                )  # fmt: skip
            return State(value, "working", created, updated, interval, f"{workflow.name} RUNNING")
        result = self.result_of(tool, outcome)
        if outcome.status == "ABORTED" and outcome.error == CANCELLED_ERROR:
            return State(value, "cancelled", created, updated, interval, "cancelled", result)
        return State(
            value, "completed", created, updated, interval,
            f"{workflow.name} {outcome.status}", result,
        )  # fmt: skip

    async def cancel(self, value: Any) -> State:
        """StopExecution (a cancel of an execution that already ended changes nothing)."""
        tool, arn = self.owner(value)
        assert tool.workflow is not None
        try:
            await _call(
                tool.workflow, "control", "stop_execution", executionArn=arn,
                error=CANCELLED_ERROR, cause="The MCP client cancelled the task.",
            )  # fmt: skip
        except WorkflowError as exc:
            if exc.code == "ExecutionDoesNotExist":
                raise _not_found(value, "the execution does not exist (or has expired)") from exc
            logger.info("tasks/cancel of %s: %s", arn, str(exc).partition("\n")[0])
        return await self.state(value)

    async def update(self, value: Any, responses: Any) -> None:
        """SEP-2663 ``tasks/update``: answers to the approval question; answers to keys that
        are not outstanding are ignored, as the extension says."""
        state = await self.state(value)
        if state.pending is None or not isinstance(responses, dict):
            return
        response = responses.get(state.pending.key)
        if not isinstance(response, dict):
            return
        await _answer(state.pending, response)

    async def until_done(
        self,
        value: Any,
        ask: Callable[[Pending], Awaitable[Mapping[str, Any] | None]] | None,
        on_change: Callable[[State], Awaitable[None]] | None = None,
    ) -> State:
        """Poll until the task is done (SEP-1686 ``tasks/result``): an approval step is asked
        with ``ask`` when the client can be asked, and every change of status is reported."""
        asked: set[str] = set()
        last = ""
        delay = 0.2
        while True:
            state = await self.state(value)
            if state.status != last and on_change is not None:
                await on_change(state)
            last = state.status
            if state.status in ("completed", "cancelled"):
                return state
            if state.pending is not None and ask is not None and state.pending.key not in asked:
                asked.add(state.pending.key)
                reply = await ask(state.pending)
                if reply is not None:
                    await _answer(state.pending, reply)
                delay = 0.2
                continue
            await anyio.sleep(delay)
            delay = min(delay * 1.6, MAX_POLL_SECONDS, state.poll_interval_ms / 1000)


async def _answer(pending: Pending, response: Mapping[str, Any]) -> None:
    """An elicitation response (``action``, ``content``) as the step's answer, its failures as
    the protocol errors of a task method."""
    try:
        await send_reply(pending, response)
    except ValueError as exc:
        raise MCPError(code=INVALID_PARAMS, message=str(exc)) from exc
    except WorkflowError as exc:
        raise MCPError(code=-32603, message=f"could not answer the step: {exc}") from exc
