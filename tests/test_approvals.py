"""Approval steps as the compiler finds them: the marking, where the token is, and the steps it
cannot make answerable (each a warning naming the state), rendered into tools.py."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sfn_mcp.diagnostics import Diagnostics
from sfn_mcp.ir.approvals import ApprovalStep, approval_steps
from sfn_mcp.pipeline import compile_records
from sfn_mcp.settings import Settings
from tests.sources import machine

WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def task(comment: str, parameters: Any = None, **extra: Any) -> dict[str, Any]:
    state = {"Type": "Task", "Comment": comment, "Resource": WAIT, "End": True, **extra}
    if parameters is not None:
        state["Parameters"] = parameters
    return state


def found(states: dict[str, Any]) -> tuple[tuple[ApprovalStep, ...], list[str]]:
    diagnostics = Diagnostics()
    definition = json.dumps({"StartAt": next(iter(states)), "States": states})
    steps = approval_steps("shop-refund", definition, diagnostics)
    return steps, [d.message for d in diagnostics]


def test_a_marked_callback_state_is_an_approval_step_with_its_question_and_token_path() -> None:
    steps, problems = found(
        {
            "Approve": task(
                "Approval:  Refund this order?",
                {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
            )
        }
    )
    assert steps == (ApprovalStep("Approve", "Refund this order?", ("Payload", "token")),)
    assert problems == []


def test_jsonata_arguments_carry_the_token_too() -> None:
    state = task("approval: ship it?", None, QueryLanguage="JSONata")
    state["Arguments"] = {"Payload": {"t": "{% $states.context.Task.Token %}"}}
    steps, _ = found({"Ship": state})
    assert steps == (ApprovalStep("Ship", "ship it?", ("Payload", "t")),)


def test_unmarked_states_are_not_steps() -> None:
    steps, problems = found({"Notify": task("Tell the team.", {"x.$": "$$.Task.Token"})})
    assert steps == () and problems == []


def test_marked_steps_that_cannot_be_answered_are_warnings_naming_them() -> None:
    no_token = task("Approval: ok?", {"FunctionName": "notify"})
    plain = {"Type": "Pass", "Comment": "Approval: ok?", "End": True}
    branch = {
        "StartAt": "Inner",
        "States": {"Inner": task("Approval: inner?", {"t.$": "$$.Task.Token"})},
    }
    parallel = {"Type": "Parallel", "Branches": [branch], "End": True}
    for states, words in (
        ({"A": no_token}, "pass the task token nowhere"),
        ({"A": plain}, "does not wait for a task token"),
        ({"A": parallel}, "inside a Parallel or Map"),
    ):
        steps, problems = found(states)
        assert steps == ()
        (problem,) = problems
        assert "shop-refund" in problem and words in problem


def test_steps_reach_tools_py_and_the_description() -> None:
    definition = {
        "StartAt": "Approve",
        "States": {
            "Approve": task("Approval: Refund it?", {"Payload": {"token.$": "$$.Task.Token"}})
        },
    }
    refund = replace(machine("shop-refund"), definition=json.dumps(definition))
    files = compile_records(Settings(prefix="shop-", name="shop_tools"), [refund]).files
    tools = files["tools.py"]
    assert "ApprovalStep(" in tools and 'token_path=("Payload", "token")' in tools
    listed = {t["name"]: t for t in json.loads(files["surface.json"])["tools"]}
    assert "answer_step" in listed
    assert "waits for a person at step Approve (Refund it?)" in listed["refund"]["description"]
