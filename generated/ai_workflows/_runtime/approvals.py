"""Approval steps: states where a workflow waits for a person, answered from the MCP client.

A step is a ``.waitForTaskToken`` Task state the compiler found marked as one (its ``Comment``
starts with ``Approval:``); ``ApprovalStep`` records its name, its question and where its
parameters carry the task token. While an execution runs, its history says whether it waits at
such a step: the newest ``TaskScheduled`` event with no task outcome after it, whose state is an
approval step. Its resolved ``parameters`` hold the token (Step Functions records them; one
``GetExecutionHistory`` call). An answer goes back with ``SendTaskSuccess`` (accepted: the form's
content is the step's output) or ``SendTaskFailure`` (declined or cancelled). Nothing is kept
in the server: any replica finds the same pending step from the same history.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .aws import _call
from .definitions import ApprovalStep, Workflow, WorkflowError, excerpt

logger = logging.getLogger("sfn_mcp.runtime")

# The answer form when the step names no schema of its own: a decision and a free comment.
DEFAULT_ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "approved": {"type": "boolean", "title": "Approve", "description": "Approve this step?"},
        "comment": {"type": "string", "title": "Comment", "description": "Optional note."},
    },
    "required": ["approved"],
}
DECLINED_ERROR = "sfn-mcp.Declined"
CANCELLED_ERROR = "sfn-mcp.Cancelled"
# Events after which the task a TaskScheduled event started is no longer waiting.
_TASK_ENDED = frozenset(
    {
        "TaskSucceeded",
        "TaskFailed",
        "TaskTimedOut",
        "TaskSubmitFailed",
        "TaskStartFailed",
        "TaskStateExited",
        "TaskStateAborted",
        "ExecutionSucceeded",
        "ExecutionFailed",
        "ExecutionAborted",
        "ExecutionTimedOut",
    }
)
Action = Literal["accept", "decline", "cancel"]


@dataclass(frozen=True)
class Pending:
    """An execution waiting at an approval step right now."""

    workflow: Workflow
    execution_arn: str
    step: ApprovalStep
    token: str
    event_id: int

    @property
    def key(self) -> str:
        """Unique over the execution's life: the scheduling event's id."""
        return f"approval-{self.event_id}"

    @property
    def schema(self) -> dict[str, Any]:
        return dict(self.step.answer_schema or DEFAULT_ANSWER_SCHEMA)

    @property
    def message(self) -> str:
        return (
            f"{self.step.question}\n(workflow {self.workflow.name}, step {self.step.state}, "
            f"execution {self.execution_arn.rsplit(':', 1)[-1]})"
        )


def _token_at(parameters: Any, path: tuple[str, ...]) -> str | None:
    value = parameters
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value if isinstance(value, str) and value else None


async def recent_events(workflow: Workflow, execution_arn: str) -> list[Any]:
    """The newest events of the execution's history, newest first (one GetExecutionHistory
    call): enough to find the step it waits at, and the state it is in."""
    history = await _call(
        workflow, "control", "get_execution_history",
        executionArn=execution_arn, reverseOrder=True, maxResults=100,
    )  # fmt: skip
    events = history.get("events")
    if not isinstance(events, list):
        raise WorkflowError(
            f"GetExecutionHistory for {execution_arn} answered without a list of events"
        )
    return events


async def pending_step(workflow: Workflow, execution_arn: str) -> Pending | None:
    """The approval step the execution waits at, or None (one GetExecutionHistory call)."""
    if not workflow.approval_steps:
        return None
    return pending_in(workflow, execution_arn, await recent_events(workflow, execution_arn))


def pending_in(workflow: Workflow, execution_arn: str, events: list[Any]) -> Pending | None:
    """The approval step the execution waits at according to ``events`` (its newest ones)."""
    steps = {step.state: step for step in workflow.approval_steps}
    if not steps:
        return None
    newest_first = sorted(
        (e for e in events if isinstance(e, dict) and isinstance(e.get("id"), int)),
        key=lambda e: int(e["id"]),
        reverse=True,
    )
    scheduled: dict[str, Any] | None = None
    for event in newest_first:
        kind = event.get("type")
        if scheduled is None:
            if kind in _TASK_ENDED:
                return None  # the newest task is no longer waiting
            if kind == "TaskScheduled":
                scheduled = event
            continue
        if kind == "TaskStateEntered":
            name = (event.get("stateEnteredEventDetails") or {}).get("name")
            step = steps.get(str(name))
            if step is None:
                return None
            details = scheduled.get("taskScheduledEventDetails") or {}
            try:
                parameters = json.loads(details.get("parameters") or "null")
            except ValueError:
                parameters = None
            token = _token_at(parameters, step.token_path)
            if token is None:
                logger.warning(
                    "%s waits at %s, but its recorded parameters hold no task token at %s",
                    execution_arn,
                    step.state,
                    ".".join(step.token_path),
                )
                return None
            return Pending(workflow, execution_arn, step, token, int(scheduled["id"]))
    return None


async def send_answer(pending: Pending, action: Action, content: Mapping[str, Any] | None) -> str:
    """Send the person's answer back to the waiting step; what happened, in one sentence. On
    the default form, an accepted answer that does not approve is a decline."""
    default_form = pending.step.answer_schema is None
    if action == "accept" and default_form and (content or {}).get("approved") is not True:
        action = "decline"
    if action == "accept":
        output = json.dumps(dict(content or {}), ensure_ascii=False)
        await _call(
            pending.workflow, "control", "send_task_success",
            taskToken=pending.token, output=output,
        )  # fmt: skip
        return f"answered step {pending.step.state}: the execution goes on with the answer"
    error = DECLINED_ERROR if action == "decline" else CANCELLED_ERROR
    cause = (
        f"The person at the MCP client {'declined' if action == 'decline' else 'cancelled'} the "
        f"step {pending.step.state}."
    )
    await _call(
        pending.workflow, "control", "send_task_failure",
        taskToken=pending.token, error=error, cause=cause,
    )  # fmt: skip
    return f"{'declined' if action == 'decline' else 'cancelled'} step {pending.step.state}"


async def send_reply(pending: Pending, reply: Mapping[str, Any]) -> str:
    """An elicitation result (``action``, ``content``) sent as the step's answer; ValueError
    for an action elicitation does not have."""
    action = reply.get("action")
    if action not in ("accept", "decline", "cancel"):
        raise ValueError(f"unknown elicitation action {action!r}")
    content = reply.get("content")
    return await send_answer(pending, action, content if isinstance(content, dict) else None)


def waiting_message(pending: Pending, tool: str) -> str:
    """What a RUNNING result says of an execution that waits for a person."""
    return (
        f"The execution waits for an answer at step {pending.step.state}: "
        f"{excerpt(pending.step.question, 200)} Ask the user, then answer with {tool} "
        f"(execution_arn, approved, and an optional comment)."
    )
