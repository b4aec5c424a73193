"""What running a workflow *does*: build its input, start it (EXPRESS synchronously, STANDARD by
name, finding the execution an idempotency key already started), poll it with backoff and
progress up to a bounded wait, stop it on cancel where configured, and read its status later.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import anyio
from pydantic import BaseModel

from .approvals import Pending, pending_in, recent_events, waiting_message
from .aws import _call
from .contract import (
    ANSWER_TOOL,
    IDEMPOTENCY_ARGUMENT,
    MAX_WAIT_SECONDS,
    STATUS_TOOL,
    definition_digest,
)
from .definitions import (
    EXECUTION_ARN,
    EXECUTION_NAME,
    NOT_SENT,
    STATUSES,
    ExecutionResult,
    Workflow,
    WorkflowError,
    escape_surrogates,
    excerpt,
    sent_arguments,
    some_names,
)

logger = logging.getLogger("sfn_mcp.runtime")

MAX_INPUT_BYTES = 256 * 1024  # Step Functions' limit on execution input
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
# What StartSyncExecution answers: an EXPRESS run it waited for has ended one of these ways.
SYNC_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT"})
FIRST_POLL_SECONDS = 0.2
MAX_POLL_SECONDS = 5.0
STOP_TIMEOUT_SECONDS = 15.0


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def _parse_output(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to decode: as text
        return raw


def _status(
    response: Mapping[str, Any],
    action: str,
    workflow: Workflow,
    execution_arn: str | None,
    known: frozenset[str] | tuple[str, ...],
) -> str:
    """The execution status a response gives. An answer without one of the ``known`` statuses is
    no Step Functions answer (a proxy's empty 200, an HTML page): an error, never read as
    RUNNING or SUCCEEDED."""
    status = response.get("status")
    if isinstance(status, str) and status in known:
        return status
    got = excerpt(status) if isinstance(status, str) else "none"
    about = f" for {execution_arn}" if execution_arn else ""
    raise WorkflowError(
        f"{action} on {workflow.name} answered without a known execution status{about} (status: "
        f"{got}); the response is not a Step Functions answer"
    )


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
    """The JSON the workflow receives: exactly the arguments the caller sent, once they validated
    (JSON text a client sent for an object or array decoded): every name as sent, nothing
    filled in, masked or coerced. A field left out stays out, even one with a ``default`` in the
    schema: the default says what the workflow assumes, and the workflow applies it.

    A model made in Python rather than by the server is dumped: by alias, only the fields set."""
    arguments = sent_arguments(model)
    if arguments is not NOT_SENT:
        return arguments
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


Progress = Callable[[float, float | None, str | None], Awaitable[None]]
# How the current tool call reports progress; set by the server only when the client asked.
PROGRESS: ContextVar[Progress | None] = ContextVar("sfn_mcp_progress", default=None)
# Set while a call becomes a task: the execution is started (and seen to exist), not waited for.
START_ONLY: ContextVar[bool] = ContextVar("sfn_mcp_start_only", default=False)
# Set by the server when the person at the client can be asked (elicitation): asks one
# approval step and answers it; None when nobody can be asked.
Ask = Callable[[Pending], Awaitable[None]]
ASK: ContextVar[Ask | None] = ContextVar("sfn_mcp_ask", default=None)


async def _report(progress: float, total: float | None, message: str) -> None:
    report = PROGRESS.get()
    if report is None:
        return
    try:
        # a state name from the history is AWS data: a message must be sendable whatever it holds
        await report(progress, total, escape_surrogates(message))
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
    except (ValueError, RecursionError):  # not JSON, or deeper than any input this server sends
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
    try:
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4300 digits
        raise WorkflowError(
            f"the input cannot be written as JSON ({exc}); nothing was started"
        ) from exc
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_INPUT_BYTES:
        raise WorkflowError(
            f"input is {size} bytes; Step Functions accepts at most {MAX_INPUT_BYTES} bytes"
        )
    await _verify_target(workflow)
    if workflow.type == "EXPRESS":
        if idempotency_key is not None:
            raise WorkflowError(
                f"{workflow.name} is an EXPRESS workflow: Step Functions does not deduplicate "
                "EXPRESS executions by name, so it takes no idempotency key"
            )
        await _report(0, None, f"running the EXPRESS workflow {workflow.name}")
        try:
            response = await _call(
                workflow, "sync", "start_sync_execution",
                stateMachineArn=workflow.start_arn, name=str(uuid.uuid4()), input=text,
            )  # fmt: skip
        except WorkflowError as exc:
            if not exc.maybe_started:
                raise
            raise _may_have_run(exc) from exc
        try:
            _status(response, "StartSyncExecution", workflow, None, SYNC_STATUSES)
        except WorkflowError as exc:  # an answer came back, so something may have run
            raise _may_have_run(exc) from exc
        # executionArn is only informational for EXPRESS (get_execution cannot read it back):
        # an answer with a known status but without it is still read (the ARN stays null).
        return _result(response)
    if idempotency_key is not None and not EXECUTION_NAME.fullmatch(idempotency_key):
        raise WorkflowError(
            f"{IDEMPOTENCY_ARGUMENT} {excerpt(idempotency_key)} is not usable as an execution "
            "name: use 1 to 80 letters, digits, - and _"
        )
    # Always named, so botocore's retries of StartExecution are idempotent too.
    name = idempotency_key or str(uuid.uuid4())
    execution_arn = workflow.execution_arn(name)
    limit = 0.0 if START_ONLY.get() else max_wait_seconds(workflow)
    reused = started_here = False
    try:
        # Looked up first: on AWS, a start with the name and input of a RUNNING execution
        # succeeds and would not say that it started nothing.
        if idempotency_key is not None:
            reused = await _existing(workflow, execution_arn, name, payload)
        if not reused:
            started_here = True  # from here on, a cancel may have to stop what this call starts
            execution_arn, reused = await _start(
                workflow, execution_arn, name, text, payload, keyed=idempotency_key is not None
            )
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


def _may_have_run(exc: WorkflowError) -> WorkflowError:
    """A StartSyncExecution whose request may have reached Step Functions: what that means."""
    return WorkflowError(
        f"{exc}\nThe EXPRESS workflow may have run (once at most: it was not retried). Its "
        "result cannot be read back; calling the tool again may run it a second time.",
        exc.code,
        maybe_started=True,
    )


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
    try:
        status = _status(existing, "DescribeExecution", workflow, execution_arn, STATUSES)
    except WorkflowError as exc:
        raise WorkflowError(f"{exc}; nothing was started") from exc
    if not _same_input(existing.get("input"), payload):
        raise WorkflowError(
            f"the {IDEMPOTENCY_ARGUMENT} {name!r} was already used for an execution of "
            f"{workflow.name} with other arguments ({execution_arn}, status "
            f"{status}); nothing was started.\nHint: use a new key for a new "
            "request, or the same arguments to get that execution's result",
            "ExecutionAlreadyExists",
        )
    return True


VERIFY_VARIABLE = "SFN_MCP_VERIFY_TARGETS"
VERIFY_TTL_SECONDS = 300.0
# start ARN → (SHA-256 of the definition that runs there, when it was read)
_VERIFIED: dict[str, tuple[str, float]] = {}


async def _verify_target(workflow: Workflow) -> None:
    """With SFN_MCP_VERIFY_TARGETS set, refuse to start an execution whose target (the machine,
    its alias's version or its version) now runs another definition than the one compiled and
    reviewed. One DescribeStateMachine (and DescribeStateMachineAlias for an alias) per target
    every five minutes."""
    if not os.environ.get(VERIFY_VARIABLE, "").strip() or not workflow.definition_sha256:
        return
    target = workflow.start_arn
    known = _VERIFIED.get(target)
    if known is None or time.monotonic() - known[1] > VERIFY_TTL_SECONDS:
        version = target
        if workflow.target_arn and not target.rsplit(":", 1)[1].isdigit():  # an alias
            alias = await _call(
                workflow, "control", "describe_state_machine_alias", stateMachineAliasArn=target
            )
            routes = alias.get("routingConfiguration")
            if not (isinstance(routes, list) and all(isinstance(r, dict) for r in routes)):
                raise WorkflowError(
                    f"DescribeStateMachineAlias for {target} answered without a routing "
                    "configuration; nothing was started"
                )
            if len(routes) != 1:
                raise WorkflowError(
                    f"{workflow.name}: the alias {target} routes to {len(routes)} versions, so "
                    "what would run is not the reviewed definition; nothing was started"
                )
            version = str(routes[0].get("stateMachineVersionArn"))
        described = await _call(
            workflow, "control", "describe_state_machine", stateMachineArn=version
        )
        definition = described.get("definition")
        if not isinstance(definition, str):
            raise WorkflowError(f"DescribeStateMachine for {version} answered without a definition")
        known = (definition_digest(definition), time.monotonic())
        _VERIFIED[target] = known
    if known[0] != workflow.definition_sha256:
        raise WorkflowError(
            f"{workflow.name}: {target} now runs another definition than the one this server "
            "was generated from and reviewed, so nothing was started; regenerate the server and "
            "review the change"
        )


async def _start(
    workflow: Workflow, execution_arn: str, name: str, text: str, payload: Any, *, keyed: bool
) -> tuple[str, bool]:
    """StartExecution: the execution's ARN, and whether it existed already (same name and
    input: a concurrent call with the same key, or botocore's retry of a start that worked).
    ``keyed``: the name is the caller's idempotency key (so a retry with it is safe)."""
    try:
        started = await _call(
            workflow, "control", "start_execution",
            stateMachineArn=workflow.start_arn, name=name, input=text,
        )  # fmt: skip
        arn = started.get("executionArn")
        if not (isinstance(arn, str) and arn):
            raise WorkflowError(
                f"StartExecution on {workflow.name} answered without an executionArn: the "
                "response is not a Step Functions answer",
                maybe_started=True,
            )
        return arn, False
    except WorkflowError as exc:
        if exc.maybe_started:
            raise _maybe_started(exc, execution_arn, keyed=keyed) from exc
        if exc.code != "ExecutionAlreadyExists" or not await _existing(
            workflow, execution_arn, name, payload
        ):
            raise
    return execution_arn, True


def _maybe_started(exc: WorkflowError, execution_arn: str, *, keyed: bool) -> WorkflowError:
    """A StartExecution whose request may have reached Step Functions: what to do next."""
    if keyed:
        advice = (
            f"Calling again with the same {IDEMPOTENCY_ARGUMENT} is safe: it returns that "
            "execution if it started, and starts it if it did not."
        )
    else:
        advice = (
            f"Check it with {STATUS_TOOL} before calling again: a call without an "
            f"{IDEMPOTENCY_ARGUMENT} could start a second execution."
        )
    return WorkflowError(
        f"{exc}\nThe execution may have started as {execution_arn}. {advice}",
        exc.code,
        maybe_started=True,
    )


async def _on_cancel(workflow: Workflow, execution_arn: str, *, started_here: bool) -> None:
    """The client cancelled the call: polling has stopped. Stop the execution if the workflow
    says so and this call started it (a retry must not stop the first call's execution)."""
    if not (workflow.stop_on_cancel and started_here):
        logger.info("call cancelled; %s keeps running in AWS", execution_arn)
        return
    # Shielded: the cancel (or a client that went away) must not cut the stop short. Nothing in
    # here may raise: the caller re-raises the cancellation, which must stay what propagates.
    with anyio.move_on_after(STOP_TIMEOUT_SECONDS, shield=True):
        while True:
            try:
                stopped = await _call(
                    workflow, "control", "stop_execution", executionArn=execution_arn,
                    error="sfn-mcp.Cancelled", cause="The MCP client cancelled the tool call.",
                )  # fmt: skip
            except WorkflowError as exc:
                if exc.code != "ExecutionDoesNotExist":
                    first = str(exc).partition("\n")[0]
                    logger.warning("call cancelled; could not stop %s: %s", execution_arn, first)
                    return
            except Exception as exc:  # not an AWS error: logged in one line, never re-raised
                logger.warning(
                    "call cancelled; could not stop %s: %s: %s",
                    execution_arn,
                    type(exc).__name__,
                    excerpt(str(exc), 200),
                )
                return
            else:
                if "stopDate" not in stopped:  # a 200 that is no StopExecution answer
                    logger.warning("call cancelled; %s may not be stopped", execution_arn)
                else:
                    logger.info("call cancelled; stopped %s", execution_arn)
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
    return _entered(history.get("events"))


def _entered(events: Any) -> str | None:
    """The newest state entered among ``events`` (newest first). Only decoration of a progress
    message: an unreadable history gives progress without names."""
    for event in events if isinstance(events, list) else []:
        entered = event.get("stateEnteredEventDetails") if isinstance(event, dict) else None
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
    asked: set[str] = set()
    while True:
        logger.debug("polling %s", execution_arn)
        try:
            described = await _call(
                workflow, "control", "describe_execution", executionArn=execution_arn
            )
            status = _status(described, "DescribeExecution", workflow, execution_arn, STATUSES)
        except WorkflowError as exc:
            if not started:
                raise
            raise WorkflowError(
                f"{exc}\nThe execution was started and may still be running: {execution_arn}. "
                f"Check it with {STATUS_TOOL} before starting the workflow again.",
                exc.code,
            ) from exc
        if status in TERMINAL:
            return _result(described, execution_arn)
        events = await _approval_history(workflow, execution_arn)
        pending = pending_in(workflow, execution_arn, events) if events is not None else None
        if pending is not None and pending.key not in asked:
            ask = ASK.get()
            if ask is None:  # nobody to ask here: say so now rather than wait in vain
                return ExecutionResult(
                    status=status,
                    execution_arn=execution_arn,
                    start_date=_iso(described.get("startDate")),
                    message=waiting_message(pending, ANSWER_TOOL),
                )
            asked.add(pending.key)
            await ask(pending)
            delay = FIRST_POLL_SECONDS
            continue
        remaining = deadline - time.monotonic()
        if PROGRESS.get() is not None and limit > 0:
            # the history read for the approval steps names the state too: no second read
            state = (
                _entered(events)
                if events is not None
                else await _current_state(workflow, execution_arn)
            )
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
                status=status,
                execution_arn=execution_arn,
                start_date=_iso(described.get("startDate")),
                message=f"{status} {waited}; the execution goes on in AWS. "
                f"Follow it up with {STATUS_TOOL} and the execution ARN.",
            )
        await anyio.sleep(min(delay, remaining))
        delay = min(delay * 1.6, MAX_POLL_SECONDS)


async def _approval_history(workflow: Workflow, execution_arn: str) -> list[Any] | None:
    """For a workflow with approval steps, the newest events of the execution (None without
    steps, or when the history cannot be read: that is only a lost question, never a failed
    call)."""
    if not workflow.approval_steps:
        return None
    try:
        return await recent_events(workflow, execution_arn)
    except WorkflowError as exc:
        logger.warning("cannot tell whether %s waits for a person: %s", execution_arn, exc)
        return None


def owner_of(workflows: tuple[Workflow, ...], execution_arn: str, tool: str) -> Workflow:
    """The workflow of ``workflows`` an execution ARN belongs to; any other ARN is refused
    (before any AWS call), naming ``tool``, the tool that refuses it."""
    match = EXECUTION_ARN.match(execution_arn.strip())
    owner = None
    if match:
        machine_arn = f"{match['prefix']}:stateMachine:{match['machine']}"
        owner = next((w for w in workflows if w.arn == machine_arn), None)
    if owner is None:
        names = some_names(sorted(w.name for w in workflows if w.type == "STANDARD"))
        raise WorkflowError(
            f"refused: {excerpt(execution_arn, 256)} is not an execution of this server's "
            f"STANDARD workflows ({names}); {tool} only reads executions of its own "
            "workflows"
        )
    return owner


async def execution_status(
    workflows: tuple[Workflow, ...], execution_arn: str, wait_seconds: float = 0
) -> ExecutionResult:
    """Status, output or error of an execution of one of ``workflows``, waiting for it to end up
    to ``wait_seconds`` (capped by the workflow's own wait). Other ARNs are refused."""
    owner = owner_of(workflows, execution_arn, STATUS_TOOL)
    if owner.type == "EXPRESS":
        raise WorkflowError(
            f"{owner.name} is an EXPRESS workflow: its tool returns the result in the call itself, "
            "and Step Functions keeps no status to read back"
        )
    limit = min(wait_seconds, max_wait_seconds(owner))
    return await _wait(owner, execution_arn.strip(), limit, started=False)


def _result(response: Mapping[str, Any], execution_arn: str | None = None) -> ExecutionResult:
    """An ended execution, from a response whose status was checked (``_status``). Every other
    field is optional in the API (output only when SUCCEEDED and included, error and cause only
    when it failed), so a missing one is read as null (``execution_arn``: the ARN asked about)."""

    def text(key: str) -> str | None:
        value = response.get(key)
        return value if isinstance(value, str) else None

    return ExecutionResult(
        status=str(response["status"]),
        execution_arn=text("executionArn") or execution_arn,
        output=_parse_output(response.get("output"))
        if response.get("status") == "SUCCEEDED"
        else None,
        error=text("error"),
        cause=text("cause"),
        start_date=_iso(response.get("startDate")),
        stop_date=_iso(response.get("stopDate")),
    )
