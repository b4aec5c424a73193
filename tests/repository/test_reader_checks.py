"""What the repository reader refuses, and says why, for files that no case folder can hold
well (generated depth, byte order marks) and for the command line around it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sfn_mcp.cli import main
from sfn_mcp.diagnostics import CompileError, Diagnostics
from sfn_mcp.read.repository import read_repository
from sfn_mcp.read.repository.found import name_problem
from sfn_mcp.read.repository.load import (
    MAX_DEPTH,
    load_definition,
    load_template,
    parse,
    template_files,
)
from sfn_mcp.settings import Settings

MACHINE = {
    "Type": "AWS::StepFunctions::StateMachine",
    "Properties": {
        "StateMachineName": "shop-orders",
        "DefinitionString": '{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}',
    },
}


def test_a_deep_yaml_definition_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    deep = "Resources:\n  M:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n"
    deep += "      Definition: " + "[" * 5000 + "]" * 5000 + "\n"
    path.write_text(deep, encoding="utf-8")
    with pytest.raises(CompileError, match=f"template.yaml is nested more than {MAX_DEPTH}"):
        load_template(path, "template.yaml")
    nested = tmp_path / "deep.asl.yaml"
    text = "".join("  " * i + f"k{i}:\n" for i in range(3000)) + "  " * 3000 + "v: 1\n"
    nested.write_text(text, encoding="utf-8")
    with pytest.raises(CompileError, match="deep.asl.yaml is nested more than"):
        load_definition(nested, shown="deep.asl.yaml")
    deep_json = tmp_path / "deep.json"
    deep_json.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    with pytest.raises(CompileError, match="deep.json is nested more than"):
        load_template(deep_json, "deep.json")


def test_a_key_given_twice_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    yaml_file = tmp_path / "template.yaml"
    yaml_file.write_text(
        "Resources:\n  Other: {Type: A}\n  Mid: {Type: B}\n  Other: {Type: C}\n", encoding="utf-8"
    )
    with pytest.raises(CompileError, match="'Other' is given twice .* lines 2 and 4"):
        load_template(yaml_file, "template.yaml")
    json_file = tmp_path / "template.json"
    json_file.write_text(
        '{\n "Resources": {\n  "Other": {},\n  "Other": {}\n }\n}\n', encoding="utf-8"
    )
    with pytest.raises(CompileError, match="'Other' is given twice .* lines 3 and 4"):
        load_template(json_file, "template.json")
    # The same key in two mappings is no duplicate.
    assert parse("a: {x: 1}\nb: {x: 2}\n", yaml_file, "t", cloudformation=True)


def test_a_json_template_may_start_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "template.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"Resources": {"M": MACHINE}}).encode())
    assert load_template(path)["Resources"]["M"] == MACHINE


def test_a_folder_of_yaml_templates_says_what_a_folder_is_read_as(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "orders.yaml").write_text("Resources: {}\n", encoding="utf-8")
    with pytest.raises(CompileError) as caught:
        template_files([tmp_path / "stacks"])
    rendered = caught.value.render()
    assert "*.template.json" in rendered and "orders.yaml" in rendered
    assert "cdk synth" in rendered and "one by one" in rendered


def test_intrinsics_in_a_definition_file_are_named(tmp_path: Path) -> None:
    path = tmp_path / "flow.asl.yaml"
    path.write_text("StartAt: A\nStates:\n  A: {Type: Task, Resource: !Sub '${Fn}'}\n")
    with pytest.raises(CompileError) as caught:
        load_definition(path, shown="flow.asl.yaml")
    assert "intrinsics are not processed in DefinitionUri files; use DefinitionSubstitutions" in (
        caught.value.render()
    )


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("shop-orders_1", ""),
        ("", "is empty"),
        ("a" * 81, "81 characters"),
        ("shop orders", "' '"),
        ("shop/orders", "'/'"),
        ("shop:orders", "':'"),
        ("shop\u202eorders", "'shop\\u202eorders' holds control or bidirectional"),
        ("shop\x07", "'shop\\u0007' holds control"),
        ("prüfen", ""),
    ],
)
def test_state_machine_names_follow_create_state_machine(name: str, problem: str) -> None:
    got = name_problem(name)
    assert (problem in got) if problem else got == ""


def _project(tmp_path: Path, template: dict[str, object]) -> Path:
    (tmp_path / "template.json").write_text(json.dumps(template), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.sfn-mcp]\nsource = "cloudformation"\ntemplates = ["template.json"]\n'
        'account = "123456789012"\nregion = "eu-west-1"\nname = "shop_tools"\n'
        'output = "generated"\nprefix = "shop-"\n',
        encoding="utf-8",
    )
    return tmp_path


@pytest.mark.parametrize(
    ("template", "args"),
    [
        ({"Resources": {"M": MACHINE}}, ["--prefix", "nomatch-"]),
        ({"Resources": {}}, []),
    ],
)
def test_generate_selecting_no_machine_is_an_error_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template: dict[str, object], args: list[str]
) -> None:
    project = _project(tmp_path, template)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["generate", *args])
    assert result.exit_code == 1, result.output
    assert "no state machine in template.json matches prefix" in result.output
    assert "Traceback" not in result.output
    assert not (project / "generated").exists()


def test_generate_keeps_the_tools_when_a_later_run_selects_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path, {"Resources": {"M": MACHINE}})
    monkeypatch.chdir(project)
    assert CliRunner().invoke(main, ["generate"]).exit_code == 0
    before = sorted(p.relative_to(project) for p in (project / "generated").rglob("*"))
    result = CliRunner().invoke(main, ["generate", "--prefix", "nomatch-"])
    assert result.exit_code == 1 and "nomatch-" in result.output
    assert sorted(p.relative_to(project) for p in (project / "generated").rglob("*")) == before


def test_read_repository_alone_gives_no_machines_without_raising(tmp_path: Path) -> None:
    _project(tmp_path, {"Resources": {}})
    settings = Settings(
        source="cloudformation",
        templates=(tmp_path / "template.json",),
        account="123456789012",
        region="eu-west-1",
    )
    assert read_repository(settings, Diagnostics()) == []
