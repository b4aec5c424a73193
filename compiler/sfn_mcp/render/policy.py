"""``iam-policy.json``: the least privilege the generated server needs, derived from the IR.

Exactly the actions the runtime calls, on exactly the compiled state machines and their
executions: StartExecution (STANDARD) and StartSyncExecution (EXPRESS) on each machine;
DescribeExecution (waiting, get_execution, idempotent retries, tasks), GetExecutionHistory (the
current state in progress messages, approval steps) and StopExecution (tasks/cancel, and calls
that stop on cancel) on the executions of STANDARD machines; SendTaskSuccess/SendTaskFailure (on
"*": a task token names no resource) only where a workflow has approval steps;
DescribeStateMachine (and DescribeStateMachineAlias where a tool targets an alias) on the
machines, their versions and aliases, which SFN_MCP_VERIFY_TARGETS uses to check what runs is
what was reviewed. Nothing else: no ``states:*``, no other machine.
"""

from __future__ import annotations

from typing import Any

from sfn_mcp.ir import Package
from sfn_mcp.text import readable_json

POLICY_FILE = "iam-policy.json"


def _executions(machine_arn: str) -> str:
    prefix, _, name = machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{name}:*"


def iam_policy(package: Package) -> dict[str, Any]:
    standard = sorted(t.machine_arn for t in package.tools if t.workflow_type == "STANDARD")
    express = sorted(t.machine_arn for t in package.tools if t.workflow_type == "EXPRESS")
    targets = sorted(
        {t.machine_arn for t in package.tools} | {f"{t.machine_arn}:*" for t in package.tools}
    )
    aliases = any(t.target.startswith("alias:") for t in package.tools)
    # Task tokens name no resource: SendTaskSuccess/Failure take "*" (IAM has no narrower form).
    approving = ["*"] if any(t.approval_steps for t in package.tools) else []
    statements = [
        ("RunStandardWorkflows", ["states:StartExecution"], standard),
        (
            "FollowTheirExecutions",
            ["states:DescribeExecution", "states:GetExecutionHistory"],
            [_executions(arn) for arn in standard],
        ),
        ("CancelTheirExecutions", ["states:StopExecution"], [_executions(a) for a in standard]),
        ("RunExpressWorkflows", ["states:StartSyncExecution"], express),
        ("AnswerApprovalSteps", ["states:SendTaskSuccess", "states:SendTaskFailure"], approving),
        (
            "VerifyReviewedDefinitions",
            ["states:DescribeStateMachine"]
            + (["states:DescribeStateMachineAlias"] if aliases else []),
            targets,
        ),
    ]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
            for sid, actions, resources in statements
            if resources
        ],
    }


def grants(policy: dict[str, Any]) -> dict[str, list[str]]:
    """Action → the resources it is allowed on, sorted: the policy as a reviewer compares it."""
    by_action: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        for action in statement["Action"]:
            by_action.setdefault(action, set()).update(statement["Resource"])
    return {action: sorted(by_action[action]) for action in sorted(by_action)}


def policy_file(package: Package) -> str:
    return readable_json(iam_policy(package)) + "\n"
