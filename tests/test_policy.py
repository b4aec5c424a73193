"""``iam-policy.json``: exactly the actions the server calls, on exactly its machines, and a
policy linter from PyPI (parliament) finds nothing wrong with it."""

from __future__ import annotations

import json
from dataclasses import replace

from parliament import analyze_policy_string

from sfn_mcp.ir import Package
from sfn_mcp.read.records import MachineSource
from sfn_mcp.render.policy import iam_policy, policy_file
from sfn_mcp.settings import Settings, WorkflowSettings
from tests.sources import build_ir, example_machines, machine

ACCOUNT = "arn:aws:states:us-east-1:000000000000"


def package(**workflows: WorkflowSettings) -> Package:
    machines = [*example_machines(), machine("shop-refund")]
    settings = Settings(prefix="shop-", name="shop_tools", workflows=workflows)
    return build_ir(settings, machines)[0]


def test_the_policy_names_exactly_the_actions_and_arns_the_server_uses() -> None:
    policy = iam_policy(package(**{"shop-refund": WorkflowSettings(stop_on_cancel=True)}))
    by_sid = {s["Sid"]: (s["Action"], s["Resource"]) for s in policy["Statement"]}
    assert by_sid == {
        "RunStandardWorkflows": (
            ["states:StartExecution"],
            [f"{ACCOUNT}:stateMachine:shop-free", f"{ACCOUNT}:stateMachine:shop-order-placed",
             f"{ACCOUNT}:stateMachine:shop-refund"],
        ),
        "FollowTheirExecutions": (
            ["states:DescribeExecution", "states:GetExecutionHistory"],
            [f"{ACCOUNT}:execution:shop-free:*", f"{ACCOUNT}:execution:shop-order-placed:*",
             f"{ACCOUNT}:execution:shop-refund:*"],
        ),
        "CancelTheirExecutions": (
            ["states:StopExecution"],
            [f"{ACCOUNT}:execution:shop-free:*", f"{ACCOUNT}:execution:shop-order-placed:*",
             f"{ACCOUNT}:execution:shop-refund:*"],
        ),
        "RunExpressWorkflows": (
            ["states:StartSyncExecution"], [f"{ACCOUNT}:stateMachine:shop-ship"]
        ),
        "VerifyReviewedDefinitions": (
            ["states:DescribeStateMachine"],
            [f"{ACCOUNT}:stateMachine:shop-{n}{s}" for n in ("free", "order-placed", "refund",
             "ship") for s in ("", ":*")],
        ),
    }  # fmt: skip
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])


APPROVAL = {
    "StartAt": "Approve",
    "States": {
        "Approve": {
            "Type": "Task",
            "Comment": "Approval: refund this order?",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    },
}


def approving() -> MachineSource:
    return replace(machine("shop-refund"), definition=json.dumps(APPROVAL))


def test_only_approval_steps_add_the_task_token_actions_on_any_resource() -> None:
    sids = {s["Sid"]: s for s in iam_policy(package())["Statement"]}
    assert "AnswerApprovalSteps" not in sids
    settings = Settings(prefix="shop-", name="shop_tools")
    with_steps = build_ir(settings, [*example_machines(), approving()])[0]
    statement = {s["Sid"]: s for s in iam_policy(with_steps)["Statement"]}["AnswerApprovalSteps"]
    assert statement["Action"] == ["states:SendTaskSuccess", "states:SendTaskFailure"]
    assert statement["Resource"] == ["*"]  # a task token names no resource


def test_parliament_finds_nothing_wrong() -> None:
    settings = Settings(prefix="shop-", name="shop_tools")
    text = policy_file(build_ir(settings, [*example_machines(), approving()])[0])
    findings = analyze_policy_string(text).findings
    # parliament's IAM data lists DescribeExecution's two resource types (execution, express)
    # as both required; a STANDARD execution ARN is the right and only one here.
    real = [
        f
        for f in findings
        if not (
            f.issue == "RESOURCE_MISMATCH"
            and all(d["action"] == "states:DescribeExecution" for d in f.detail)
        )
    ]
    assert real == [], [(f.issue, f.detail) for f in real]


def test_a_package_of_only_express_workflows_gets_only_start_sync() -> None:
    only = replace(
        package(), tools=tuple(t for t in package().tools if t.workflow_type == "EXPRESS")
    )
    actions = [s["Action"] for s in iam_policy(only)["Statement"]]
    assert actions == [["states:StartSyncExecution"], ["states:DescribeStateMachine"]]


def test_the_surface_diff_reports_what_the_role_must_newly_grant_and_may_drop() -> None:
    from sfn_mcp.pipeline import compile_records
    from sfn_mcp.review.compare import compare
    from sfn_mcp.review.surface import Surface, parse_surface

    machines = [*example_machines(), machine("shop-refund")]

    def surface(steps: bool, with_refund: bool = True) -> Surface:
        settings = Settings(prefix="shop-", name="shop_tools")
        chosen = [*machines[:-1], approving() if steps else machines[-1]]
        text = compile_records(settings, chosen if with_refund else machines[:-1])
        return parse_surface(json.loads(text.files["surface.json"]), label="surface.json")

    steps = compare(surface(False), surface(True))
    assert [(c.code, c.path, c.new) for c in steps if c.code.startswith("permission")] == [
        ("permission-added", "permissions.states:SendTaskFailure", ["*"]),
        ("permission-added", "permissions.states:SendTaskSuccess", ["*"]),
    ]  # fmt: skip
    dropped = compare(surface(False), surface(False, with_refund=False))
    removed = {c.path for c in dropped if c.code == "permission-removed"}
    assert removed == {
        "permissions.states:StartExecution",
        "permissions.states:DescribeExecution",
        "permissions.states:GetExecutionHistory",
        "permissions.states:StopExecution",
        "permissions.states:DescribeStateMachine",
    }
    assert not compare(surface(True), surface(True))
