"""Step Functions over boto3: one client per region and purpose, worker threads apart from the
event loop's, and AWS errors turned into ``WorkflowError`` messages with a hint.

boto3 and botocore are imported on first use, so importing this module does not load them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from functools import partial
from typing import Any, Literal

import anyio
import anyio.to_thread

from .definitions import Workflow, WorkflowError

EXPRESS_READ_TIMEOUT = 360.0  # above the 5-minute Express limit, so a long run is not cut off


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


# The calls that start an execution: when one fails after its request may have gone out, the
# execution may have started, and the message must say so (not blame the credentials).
START_ACTIONS = frozenset({"StartExecution", "StartSyncExecution"})


def _failed_before_sending(exc: Exception, action: str) -> bool:
    """Whether ``exc`` proves that no request reached Step Functions: no credentials, region or
    valid parameters (botocore checks those first, and never retries them), or, for the one
    attempt of StartSyncExecution, no connection at all. StartExecution is retried, so a failed
    connection may follow an attempt that did reach it."""
    from botocore import exceptions as errors

    local = (
        errors.NoCredentialsError,
        errors.PartialCredentialsError,
        errors.CredentialRetrievalError,
        errors.NoRegionError,
        errors.ProfileNotFound,
        errors.ParamValidationError,
    )
    unconnected = (
        errors.EndpointConnectionError,
        errors.ConnectTimeoutError,
        errors.ProxyConnectionError,
    )
    return isinstance(exc, local) or (
        action == "StartSyncExecution" and isinstance(exc, unconnected)
    )


def _aws_error(action: str, workflow: Workflow, exc: Exception) -> WorkflowError:
    from botocore import exceptions as errors
    from botocore.parsers import ResponseParserError

    if isinstance(exc, errors.ClientError):
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
    if isinstance(exc, errors.ReadTimeoutError):
        text = f"{action} on {workflow.name}: no response in time ({exc})"
    else:
        text = f"{action} on {workflow.name} failed: {type(exc).__name__}: {exc}"
    if action == "StartSyncExecution" and isinstance(exc, errors.ReadTimeoutError):
        hint = "the execution may still be running; it was not retried to avoid a duplicate"
    elif action in START_ACTIONS and not _failed_before_sending(exc, action):
        hint = (
            "the request may have reached Step Functions before the connection failed, so the "
            "execution may have started"
        )
        return WorkflowError(f"{text}\nHint: {hint}", maybe_started=True)
    elif isinstance(exc, errors.ConnectionError):
        hint = "could not connect to Step Functions; check the region and endpoint of the server "
        hint += "process and its network"
        if action in START_ACTIONS:
            hint = f"nothing was started: {hint}"
    elif isinstance(exc, errors.HTTPClientError | ResponseParserError):  # a read or a stop
        hint = "the connection to Step Functions failed or its answer was unreadable; try again"
    else:
        hint = "check the AWS credentials, region and endpoint of the server process"
    return WorkflowError(f"{text}\nHint: {hint}")


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
    from botocore.parsers import ResponseParserError

    call = partial(_invoke, workflow.region, purpose, action, kwargs)
    try:
        # abandon_on_cancel: a cancelled call stops waiting at once; the thread finishes alone.
        result: Any = await anyio.to_thread.run_sync(
            call, limiter=_aws_threads(purpose), abandon_on_cancel=True
        )
    except (BotoCoreError, ClientError, ResponseParserError) as exc:
        raise _aws_error(action_name(action), workflow, exc) from exc
    if not isinstance(result, dict):  # botocore answers a dict; anything else is unreadable
        raise WorkflowError(
            f"{action_name(action)} on {workflow.name}: the response could not be read",
            maybe_started=action_name(action) in START_ACTIONS,
        )
    return result


def action_name(action: str) -> str:
    """The API's name of a boto3 method: ``start_sync_execution`` -> ``StartSyncExecution``."""
    return "".join(part.title() for part in action.split("_"))
