"""Run ministack with the project's patch to its Step Functions callback tasks.

``stack.py`` starts ministack as ``.venv-ministack/bin/python localaws/ministack_launcher.py``
instead of the ``ministack`` console script. This module runs in ministack's own interpreter (it
imports nothing of the project), patches ``ministack.services.stepfunctions`` in memory and then
calls ministack's ``main()``. Nothing inside ``.venv-ministack`` is edited, so a fresh clone that
builds that virtualenv from PyPI gets the same behaviour.

What ministack 1.5.33 does differently from AWS, and what the patch changes:

1. ``TaskScheduled`` events: ministack records only ``resourceType`` ("lambda" or "states") and
   the full resource ARN. AWS records ``taskScheduledEventDetails`` with ``parameters`` (the
   state's resolved Parameters, or JSONata Arguments, as a JSON string: for a
   ``.waitForTaskToken`` task it holds the task token wherever the definition put
   ``$$.Task.Token`` / ``$states.context.Task.Token``), ``region``, ``resourceType`` and
   ``resource`` split from an ``arn:aws:states:::<service>:<action>`` resource
   (``lambda`` / ``invoke.waitForTaskToken``; ``aws-sdk:<service>`` / ``<action>``), plus
   ``timeoutInSeconds`` / ``heartbeatInSeconds`` when the state sets them. The patch rewrites the
   one ``_add_event(execution, "TaskScheduled", ...)`` call in ``_execute_task`` to build those
   details (other resources, such as a Lambda function ARN, keep ministack's resource fields).
2. ``StopExecution`` of an execution waiting at a callback task: ministack marks it ABORTED but
   leaves the task waiting, so a later ``SendTaskSuccess`` was accepted and appended events after
   ``ExecutionAborted`` (and a task timeout turned the ABORTED execution into FAILED). The patch
   closes the execution's open callback tasks at stop, ends the waiting thread without Retry or
   Catch, and drops events and failures that arrive after the abort.
3. ``SendTaskSuccess`` / ``SendTaskFailure`` / ``SendTaskHeartbeat``: ministack answers every
   unknown token with ``TaskDoesNotExist``. The patch answers a token of a task that has already
   ended (succeeded, failed, timed out, stopped) with ``TaskTimedOut``, as AWS does, and a token
   that is not of the form ministack issues (a UUID) with ``InvalidToken``; a well-formed unknown
   token stays ``TaskDoesNotExist``. A second success for the same token is refused.
4. ``HeartbeatSeconds`` on a callback task: ministack records heartbeats but never enforces the
   limit. The patch fails the task with ``States.HeartbeatTimeout`` when no heartbeat (or result)
   arrives within ``HeartbeatSeconds``. ``TimeoutSeconds`` was already enforced
   (``States.Timeout``).

The patch checks the shape of the module it patches (the functions it wraps and their parameters,
and the exact source text it rewrites) before the server starts, and exits with a clear error
(status 3) if the pinned ministack has changed, rather than running without the patch.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

PINNED_VERSION = "1.5.33"
EXIT_PATCH_FAILED = 3
HEARTBEAT_POLL = 0.05
REGISTER_WAIT = 0.25
TERMINAL_CAUSE = "Provided task does not exist anymore"

# The call in ``_execute_task`` that this module rewrites, exactly as ministack 1.5.33 has it.
TASK_SCHEDULED_CALL = """\
            _add_event(execution, "TaskScheduled", {
                "taskScheduledEventDetails": {
                    "resourceType": "lambda" if "lambda" in resource else "states",
                    "resource": resource,
                },
            })
"""
TASK_SCHEDULED_REPLACEMENT = """\
            _add_event(execution, "TaskScheduled", _sfn_mcp_task_scheduled(
                state_def, resource, effective, ctx))
"""

# Functions the patch wraps or relies on, with the parameters it passes or reads.
EXPECTED_SIGNATURES = {
    "_execute_task": ["state_def", "raw_input", "execution", "ctx"],
    "_invoke_with_callback": ["resource", "input_data", "token", "state_def"],
    "_add_event": ["execution", "event_type", "details"],
    "_fail_execution": ["execution", "error", "cause"],
    "_stop_execution": ["data"],
    "_run_execution": ["exec_arn"],
    "_send_task_success": ["data"],
    "_send_task_failure": ["data"],
    "_send_task_heartbeat": ["data"],
    "error_response_json": None,
}
EXPECTED_OBJECTS = ("_task_tokens", "_executions", "_ExecutionError")

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
STATES_RESOURCE = re.compile(r"^arn:[^:]+:states:::(?P<service>[^:]+):(?P<action>.+)$")


class PatchError(RuntimeError):
    """The installed ministack does not have the shape this patch was written for."""


class ExecutionStopped(BaseException):
    """Ends the thread of a stopped execution; a BaseException, so no Retry or Catch sees it."""


def task_scheduled_details(
    state_def: dict[str, Any], resource: str, parameters: Any, execution_arn: str
) -> dict[str, Any]:
    """``taskScheduledEventDetails`` as AWS records them for a Task state."""
    match = STATES_RESOURCE.match(resource)
    if match is None:
        # A Lambda function or activity ARN: keep what ministack records.
        resource_type, action = ("lambda" if "lambda" in resource else "states"), resource
    elif match["service"] == "aws-sdk":
        service, _, action = match["action"].partition(":")
        resource_type = f"aws-sdk:{service}"
    else:
        resource_type, action = match["service"], match["action"]
    details: dict[str, Any] = {
        "resourceType": resource_type,
        "resource": action,
        "region": execution_arn.split(":")[3] if execution_arn.count(":") >= 3 else "",
        "parameters": json.dumps(parameters, separators=(",", ":"), ensure_ascii=False),
    }
    for field, key in (
        ("TimeoutSeconds", "timeoutInSeconds"),
        ("HeartbeatSeconds", "heartbeatInSeconds"),
    ):
        if isinstance(state_def.get(field), int):
            details[key] = state_def[field]
    return {"taskScheduledEventDetails": details}


def check_shape(sfn: ModuleType) -> str:
    """Raise PatchError unless ``sfn`` has what the patch needs; return _execute_task's source."""
    problems: list[str] = []
    for name, params in EXPECTED_SIGNATURES.items():
        func = getattr(sfn, name, None)
        if not callable(func):
            problems.append(f"{name}() is missing")
        elif params is not None and list(inspect.signature(func).parameters) != params:
            found = list(inspect.signature(func).parameters)
            problems.append(f"{name}() takes {found}, the patch expects {params}")
    problems += [f"{name} is missing" for name in EXPECTED_OBJECTS if not hasattr(sfn, name)]
    source = ""
    if callable(getattr(sfn, "_execute_task", None)):
        source = inspect.getsource(sfn._execute_task)
        count = source.count(TASK_SCHEDULED_CALL)
        if count != 1:
            problems.append(
                f"_execute_task() contains the TaskScheduled call {count} times, not once"
            )
        if "effective = " not in source:
            problems.append("_execute_task() no longer computes `effective` (the parameters)")
    if problems:
        raise PatchError("; ".join(problems))
    return source


def patch_stepfunctions(sfn: ModuleType) -> None:
    """Apply the four changes of the module docstring to ministack's Step Functions module."""
    source = check_shape(sfn)
    ns = sfn.__dict__
    callback_tasks: dict[str, str] = {}  # open callback token -> execution ARN
    closed_tokens: set[str] = set()
    stopped_tokens: set[str] = set()
    lock = threading.Lock()

    def scheduled(state_def: Any, resource: Any, effective: Any, ctx: Any) -> dict[str, Any]:
        execution_arn = str(ctx.get("Execution", {}).get("Id", ""))
        if ".waitForTaskToken" in resource:
            token = ctx.get("Task", {}).get("Token")
            if token:
                with lock:
                    callback_tasks[token] = execution_arn
        return task_scheduled_details(state_def, resource, effective, execution_arn)

    # 1. Rewrite the TaskScheduled call, keeping the line numbers of the rest of the function.
    removed = TASK_SCHEDULED_CALL.count("\n") - TASK_SCHEDULED_REPLACEMENT.count("\n")
    new_source = source.replace(TASK_SCHEDULED_CALL, TASK_SCHEDULED_REPLACEMENT + "\n" * removed)
    first_line = sfn._execute_task.__code__.co_firstlineno
    code = compile("\n" * (first_line - 1) + new_source, sfn.__file__ or "<ministack>", "exec")
    ns["_sfn_mcp_task_scheduled"] = scheduled
    exec(code, ns)  # redefines _execute_task in ministack's module namespace

    # 4. HeartbeatSeconds, and 2./3. the bookkeeping of open and closed callback tasks.
    original_invoke = sfn._invoke_with_callback
    tokens = sfn._task_tokens

    def watch_heartbeat(token: str, seconds: float, done: threading.Event) -> None:
        info = None
        while info is None and not done.wait(HEARTBEAT_POLL):
            info = tokens.get(token)
        last, deadline = None, time.monotonic() + seconds
        while info is not None and not done.wait(HEARTBEAT_POLL):
            if info.get("heartbeat") != last:
                last, deadline = info.get("heartbeat"), time.monotonic() + seconds
            elif time.monotonic() > deadline and not info["event"].is_set():
                info["error"] = {
                    "Error": "States.HeartbeatTimeout",
                    "Cause": f"no heartbeat within HeartbeatSeconds ({seconds:g} s)",
                }
                info["event"].set()
                return

    @functools.wraps(original_invoke)
    def invoke_with_callback(resource: Any, input_data: Any, token: str, state_def: Any) -> Any:
        done = threading.Event()
        heartbeat = state_def.get("HeartbeatSeconds")
        if isinstance(heartbeat, int | float) and heartbeat > 0:
            threading.Thread(
                target=contextvars.copy_context().run,
                args=(watch_heartbeat, token, float(heartbeat), done),
                daemon=True,
            ).start()
        try:
            result = original_invoke(resource, input_data, token, state_def)
        except sfn._ExecutionError:
            if token in stopped_tokens:
                raise ExecutionStopped(token) from None
            raise
        finally:
            done.set()
            with lock:
                callback_tasks.pop(token, None)
                closed_tokens.add(token)
        if token in stopped_tokens:  # a result that raced the stop is dropped too
            raise ExecutionStopped(token)
        return result

    ns["_invoke_with_callback"] = invoke_with_callback

    original_stop = sfn._stop_execution

    @functools.wraps(original_stop)
    def stop_execution(data: Any) -> Any:
        response = original_stop(data)
        arn = data.get("executionArn") if isinstance(data, dict) else None
        execution = sfn._executions.get(arn) if arn else None
        if execution is not None and execution.get("status") == "ABORTED":
            with lock:
                open_tokens = [t for t, a in callback_tasks.items() if a == arn]
                stopped_tokens.update(open_tokens)
                closed_tokens.update(open_tokens)
            for token in open_tokens:
                info = tokens.get(token)
                if info is not None:
                    info["error"] = {"Error": "States.Aborted", "Cause": "execution stopped"}
                    info["event"].set()
        return response

    ns["_stop_execution"] = stop_execution

    original_add_event = sfn._add_event

    @functools.wraps(original_add_event)
    def add_event(execution: Any, event_type: Any, details: Any = None) -> Any:
        if execution.get("status") == "ABORTED" and event_type != "ExecutionAborted":
            return None  # the execution was stopped: nothing happens after ExecutionAborted
        return original_add_event(execution, event_type, details)

    ns["_add_event"] = add_event

    original_fail = sfn._fail_execution

    @functools.wraps(original_fail)
    def fail_execution(execution: Any, error: Any, cause: Any) -> Any:
        if execution.get("status") == "ABORTED":
            return None
        return original_fail(execution, error, cause)

    ns["_fail_execution"] = fail_execution

    original_run = sfn._run_execution

    @functools.wraps(original_run)
    def run_execution(exec_arn: Any) -> Any:
        try:
            return original_run(exec_arn)
        except ExecutionStopped:
            return None

    ns["_run_execution"] = run_execution

    # A stopped callback task inside a Parallel or Map branch ends that branch's thread quietly.
    previous_hook = threading.excepthook

    def excepthook(args: Any) -> None:
        if args.exc_type is not ExecutionStopped:
            previous_hook(args)

    threading.excepthook = excepthook

    def refuse_unusable_token(original: Callable[[Any], Any], *, closes: bool) -> None:
        @functools.wraps(original)
        def send(data: Any) -> Any:
            token = data.get("taskToken") if isinstance(data, dict) else None
            with lock:
                closed = token in closed_tokens
            # The TaskScheduled event (with the token) is recorded just before ministack
            # registers the token; a caller that read it at once must not be told it is unknown.
            deadline = time.monotonic() + REGISTER_WAIT
            while (
                not closed
                and token in callback_tasks
                and tokens.get(token) is None
                and time.monotonic() < deadline
            ):
                time.sleep(0.005)
            if closed:
                return sfn.error_response_json(
                    "TaskTimedOut", f"Task Timed Out: '{TERMINAL_CAUSE}'", 400
                )
            if not isinstance(token, str) or (tokens.get(token) is None and not UUID.match(token)):
                return sfn.error_response_json(
                    "InvalidToken", "Invalid Token: 'Invalid token'", 400
                )
            with lock:  # one result per token: a second success or failure is refused
                known = tokens.get(token) is not None
                response = original(data)
                if closes and known:
                    closed_tokens.add(token)
            return response

        ns[original.__name__] = send

    refuse_unusable_token(sfn._send_task_success, closes=True)
    refuse_unusable_token(sfn._send_task_failure, closes=True)
    refuse_unusable_token(sfn._send_task_heartbeat, closes=False)


def main() -> None:
    # Run as a script, Python puts localaws/ first on sys.path; ministack must not see the
    # project's modules (log, seed, stack, ...) under top-level names.
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [entry for entry in sys.path if str(Path(entry or ".").resolve()) != here]
    import importlib

    try:
        sfn = importlib.import_module("ministack.services.stepfunctions")
        patch_stepfunctions(sfn)
    except PatchError as exc:
        from importlib.metadata import version

        print(
            f"error: localaws/ministack_launcher.py cannot patch ministack {version('ministack')} "
            f"(written for {PINNED_VERSION}): {exc}. Update the patch, or reinstall the pinned "
            "version (make .venv-ministack/.installed).",
            file=sys.stderr,
        )
        sys.exit(EXIT_PATCH_FAILED)
    ministack_main = importlib.import_module("ministack.app").main
    sys.argv[0] = "ministack"
    sys.exit(ministack_main())


if __name__ == "__main__":
    main()
