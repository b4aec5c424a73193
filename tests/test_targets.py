"""What runs is what was reviewed: tools can target a published version or an alias; the compiler
reads that version's definition, surface.json records it, and `check` reports an alias that now
points at another definition. Against the local AWS (ministack keeps versions and aliases)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from sfn_mcp_runtime.contract import definition_digest
from tests.helpers import ROLE, generate, sfn_mcp

pytestmark = pytest.mark.integration
NAME = "sfn-target-pay"
V1 = {"Comment": "Pays.", "StartAt": "Pay", "States": {"Pay": {"Type": "Pass", "End": True}}}
V2 = {
    "Comment": "Pays twice.",
    "StartAt": "Pay",
    "States": {"Pay": {"Type": "Pass", "Next": "Again"}, "Again": {"Type": "Pass", "End": True}},
}


@pytest.fixture(scope="module")
def machine(local_aws: Any) -> str:
    sfn = local_aws.client("stepfunctions")
    arn: str = sfn.create_state_machine(
        name=NAME, definition=json.dumps(V1), roleArn=ROLE, publish=True
    )["stateMachineArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(V2), publish=True)
    sfn.create_state_machine_alias(
        name="prod", routingConfiguration=[{"stateMachineVersionArn": f"{arn}:1", "weight": 100}]
    )
    return arn


@pytest.fixture(scope="module")
def env(local_aws: Any) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STATE_MACHINE_"))}
    return base | dict(local_aws.env)


def project(tmp_path: Path, target: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.sfn-mcp]\nprefix = "sfn-target-"\nname = "pay_tools"\noutput = "out"\n'
        f'[tool.sfn-mcp.workflows."{NAME}"]\ntarget = "{target}"\n'
    )
    return tmp_path


def surface(tmp_path: Path) -> dict[str, Any]:
    document = json.loads((tmp_path / "out" / "pay_tools" / "surface.json").read_text())
    (tool,) = [t for t in document["tools"] if t["name"] == "pay"]
    return dict(tool["stateMachine"])


def sha(document: dict[str, Any]) -> str:
    return definition_digest(json.dumps(document))


@pytest.mark.parametrize(
    ("target", "version", "definition"),
    [("alias:prod", "1", V1), ("version:2", "2", V2), ("version:1", "1", V1)],
)
def test_the_targets_definition_is_compiled_and_recorded(
    machine: str, env: dict[str, str], tmp_path: Path, target: str, version: str,
    definition: dict[str, Any],
) -> None:  # fmt: skip
    generate(env, tmp_path / "out", "--config", str(project(tmp_path, target) / "pyproject.toml"))
    recorded = surface(tmp_path)
    assert recorded["target"] == target
    assert recorded["versionArn"] == f"{machine}:{version}"
    assert recorded["definitionSha256"] == sha(definition)
    tools = (tmp_path / "out" / "pay_tools" / "tools.py").read_text()
    assert f"{machine}:{target.split(':')[1]}" in tools  # executions start the alias or version


def test_a_moved_alias_makes_check_fail(
    machine: str, env: dict[str, str], tmp_path: Path, local_aws: Any
) -> None:
    config = str(project(tmp_path, "alias:prod") / "pyproject.toml")
    generate(env, tmp_path / "out", "--config", config)
    assert sfn_mcp(env, "check", "--config", config).returncode == 0
    sfn = local_aws.client("stepfunctions")
    route = [{"stateMachineVersionArn": f"{machine}:2", "weight": 100}]
    sfn.update_state_machine_alias(
        stateMachineAliasArn=f"{machine}:prod", routingConfiguration=route
    )
    try:
        moved = sfn_mcp(env, "check", "--config", config)
        assert moved.returncode == 1, moved.stdout + moved.stderr
        assert "pay" in moved.stdout and "definition" in moved.stdout
    finally:
        route = [{"stateMachineVersionArn": f"{machine}:1", "weight": 100}]
        sfn.update_state_machine_alias(
            stateMachineAliasArn=f"{machine}:prod", routingConfiguration=route
        )


def test_an_alias_that_does_not_exist_is_an_error_naming_it(
    machine: str, env: dict[str, str], tmp_path: Path
) -> None:
    config = str(project(tmp_path, "alias:nope") / "pyproject.toml")
    result = sfn_mcp(env, "generate", "--config", config)
    assert result.returncode == 1
    assert f"state machine '{NAME}'" in result.stderr and "alias:nope" in result.stderr
