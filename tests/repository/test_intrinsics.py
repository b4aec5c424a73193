"""The intrinsics of CloudFormation templates, resolved where the value is known before
deployment and unresolvable (never guessed) where it is not."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.read.repository import definition_text
from sfn_mcp.read.repository.cloudformation import _sam_substitutions
from sfn_mcp.read.repository.intrinsics import NO_VALUE, Resolver, Unresolvable
from sfn_mcp.read.repository.load import load_template, parse, template_files
from sfn_mcp.settings import ResourceSettings, Settings

ACCOUNT, REGION = "123456789012", "eu-west-1"
TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Stage": {"Type": "String", "Default": "dev"},
        "Given": {"Type": "String"},
        "Missing": {"Type": "String"},
        "Zones": {"Type": "CommaDelimitedList", "Default": "a, b"},
        "Secret": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/shop/secret"},
    },
    "Mappings": {"Sizes": {"dev": {"Memory": 128}, "prod": {"Memory": 1024}}},
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
        "Both": {"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": ["x", "x"]}]},
        "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "Both"}]},
        "Loop": {"Condition": "Loop"},
    },
    "Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "shop-fn"}},
        "Unnamed": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "SamFn": {
            "Type": "AWS::Serverless::Function",
            "Properties": {"FunctionName": {"Fn::Sub": "shop-${Stage}-sam"}},
        },
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "orders"}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "shop-bucket"}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs"}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts"}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "runner", "Path": "/sfn/"}},
        "PlainRole": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "plain"}},
        "Machine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {"StateMachineName": "shop-m"},
        },
        "SamMachine": {"Type": "AWS::Serverless::StateMachine", "Properties": {"Name": "shop-s"}},
        "Registry": {"Type": "AWS::EventSchemas::Registry", "Properties": {"RegistryName": "shop"}},
        "Schema": {
            "Type": "AWS::EventSchemas::Schema",
            "Properties": {"RegistryName": {"Ref": "Registry"}, "SchemaName": "Order"},
        },
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "shop-bus"}},
        "Custom": {"Type": "Custom::Thing", "Properties": {}},
    },
}


def resolver(**settings: Any) -> Resolver:
    values: dict[str, Any] = {"account": ACCOUNT, "region": REGION, "stack_name": "shop-stack"}
    values.update(settings)
    return Resolver(TEMPLATE, Settings(**values))


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "AWS::AccountId"}, ACCOUNT),
        ({"Ref": "AWS::Region"}, REGION),
        ({"Ref": "AWS::Partition"}, "aws"),
        ({"Ref": "AWS::URLSuffix"}, "amazonaws.com"),
        ({"Ref": "AWS::StackName"}, "shop-stack"),
        ({"Ref": "Stage"}, "dev"),
        ({"Ref": "Zones"}, ["a", "b"]),
        ({"Ref": "Fn"}, "shop-fn"),
        ({"Fn::GetAtt": ["Fn", "Arn"]}, arn("lambda", "function:shop-fn")),
        ({"Fn::GetAtt": "SamFn.Arn"}, arn("lambda", "function:shop-dev-sam")),
        ({"Ref": "Table"}, "orders"),
        ({"Fn::GetAtt": ["Table", "Arn"]}, arn("dynamodb", "table/orders")),
        ({"Ref": "Bucket"}, "shop-bucket"),
        ({"Fn::GetAtt": ["Bucket", "Arn"]}, "arn:aws:s3:::shop-bucket"),
        ({"Ref": "Queue"}, f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/jobs"),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, arn("sqs", "jobs")),
        ({"Fn::GetAtt": ["Queue", "QueueName"]}, "jobs"),
        ({"Ref": "Topic"}, arn("sns", "alerts")),
        ({"Fn::GetAtt": ["Topic", "TopicName"]}, "alerts"),
        ({"Ref": "Role"}, "runner"),
        ({"Fn::GetAtt": ["Role", "Arn"]}, f"arn:aws:iam::{ACCOUNT}:role/sfn/runner"),
        ({"Fn::GetAtt": ["PlainRole", "Arn"]}, f"arn:aws:iam::{ACCOUNT}:role/plain"),
        ({"Ref": "Machine"}, arn("states", "stateMachine:shop-m")),
        ({"Fn::GetAtt": ["Machine", "Name"]}, "shop-m"),
        ({"Ref": "SamMachine"}, arn("states", "stateMachine:shop-s")),
        ({"Ref": "Registry"}, arn("schemas", "registry/shop")),
        ({"Fn::GetAtt": ["Registry", "RegistryName"]}, "shop"),
        ({"Ref": "Schema"}, arn("schemas", "schema/shop/Order")),
        ({"Fn::GetAtt": ["Schema", "SchemaArn"]}, arn("schemas", "schema/shop/Order")),
        ({"Fn::GetAtt": ["Schema", "SchemaVersion"]}, "1"),
        ({"Ref": "Bus"}, "shop-bus"),
        ({"Fn::GetAtt": ["Bus", "Arn"]}, arn("events", "event-bus/shop-bus")),
        (
            {"Fn::Sub": "${Fn.Arn}|${Stage}|${!Literal}|${AWS::Region}"},
            f"{arn('lambda', 'function:shop-fn')}|dev|${{Literal}}|{REGION}",
        ),
        ({"Fn::Sub": ["${Name}-${Stage}", {"Name": {"Ref": "Table"}}]}, "orders-dev"),
        ({"Fn::Join": [":", ["a", {"Ref": "Stage"}, "c"]]}, "a:dev:c"),
        ({"Fn::Join": [",", {"Ref": "Zones"}]}, "a,b"),
        ({"Fn::Select": ["1", {"Fn::Split": ["/", "x/y/z"]}]}, "y"),
        ({"Fn::Select": [0, {"Ref": "Zones"}]}, "a"),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}, 128),
        ({"Fn::FindInMap": ["Sizes", "test", "Memory", {"DefaultValue": 64}]}, 64),
        ({"Fn::If": ["IsProd", "big", "small"]}, "small"),
        ({"Fn::If": ["Either", "yes", "no"]}, "yes"),
        ({"Fn::Base64": "hi"}, "aGk="),
        (
            {
                "a": {"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]},
                "b": [{"Ref": "AWS::NoValue"}],
            },
            {"b": []},
        ),
    ],
)
def test_resolves(value: Any, expected: Any) -> None:
    assert resolver().resolve(value) == expected


def test_parameters_from_the_settings_win_over_defaults() -> None:
    got = resolver(parameters={"Stage": "prod", "Given": "x", "Secret": "s3cr3t"})
    assert got.resolve({"Ref": "Stage"}) == "prod"
    assert got.resolve({"Fn::If": ["IsProd", "big", "small"]}) == "big"
    assert got.resolve({"Ref": "Given"}) == "x"
    assert got.resolve({"Ref": "Secret"}) == "s3cr3t"


def test_the_china_partition_has_its_own_url_suffix() -> None:
    got = resolver(partition="aws-cn", region="cn-north-1")
    assert got.resolve({"Ref": "AWS::URLSuffix"}) == "amazonaws.com.cn"
    assert (
        got.resolve({"Ref": "Queue"}) == f"https://sqs.cn-north-1.amazonaws.com.cn/{ACCOUNT}/jobs"
    )
    assert got.resolve({"Fn::GetAtt": ["Fn", "Arn"]}).startswith("arn:aws-cn:lambda:cn-north-1:")


def test_resource_settings_supply_names_and_arns() -> None:
    got = resolver(
        resources={
            "Unnamed": ResourceSettings(name="generated-Abc123"),
            "Fn": ResourceSettings(arn="arn:aws:lambda:eu-west-1:999999999999:function:other"),
            "Schema": ResourceSettings(version="7"),
        }
    )
    assert got.resolve({"Ref": "Unnamed"}) == "generated-Abc123"
    assert got.resolve({"Fn::GetAtt": ["Fn", "Arn"]}).endswith(":999999999999:function:other")
    assert got.resolve({"Fn::GetAtt": ["Schema", "SchemaVersion"]}) == "7"


@pytest.mark.parametrize(
    ("value", "reason", "supply"),
    [
        (
            {"Ref": "Missing"},
            "parameter 'Missing' has no value",
            "[tool.sfn-mcp.parameters] Missing",
        ),
        ({"Ref": "Secret"}, "SSM parameter name", "[tool.sfn-mcp.parameters] Secret"),
        ({"Ref": "Unnamed"}, "CloudFormation makes its name", "resources.Unnamed] name"),
        ({"Fn::GetAtt": ["Unnamed", "Arn"]}, "no FunctionName", "resources.Unnamed] name"),
        ({"Fn::ImportValue": "other-stack-output"}, "another stack's output", "parameter"),
        ({"Ref": "AWS::StackId"}, "only after deployment", "template"),
        ({"Ref": "Nope"}, "names no parameter or resource", "name a parameter"),
        ({"Ref": "Custom"}, "does not know what it gives", "resources.Custom] arn"),
        ({"Fn::GetAtt": ["Table", "StreamArn"]}, "only after deployment", "template"),
        ({"Fn::GetAZs": ""}, "not resolved by sfn-mcp", "template"),
        ({"Fn::If": ["Loop", "a", "b"]}, "refers to itself", "template"),
        ({"Fn::Select": ["5", ["a"]]}, "past the list", "template"),
        ("{{resolve:ssm:/shop/name}}", "dynamic reference", "template"),
        ({"Fn::Sub": "${Missing}-x"}, "parameter 'Missing'", "parameters"),
    ],
)
def test_unresolvable_is_never_guessed(value: Any, reason: str, supply: str) -> None:
    with pytest.raises(Unresolvable) as caught:
        resolver().resolve(value)
    assert reason in caught.value.what
    assert supply in caught.value.supply


@pytest.mark.parametrize("missing", ["account", "region"])
def test_a_missing_account_or_region_names_the_setting(missing: str) -> None:
    with pytest.raises(Unresolvable) as caught:
        resolver(**{missing: None}).resolve({"Fn::GetAtt": ["Fn", "Arn"]})
    assert caught.value.what == f"the {missing} is not set"
    assert f'set {missing} = "..." in [tool.sfn-mcp]' in caught.value.supply


def test_stack_name_unset_is_unresolvable() -> None:
    with pytest.raises(Unresolvable, match="stack name"):
        resolver(stack_name=None).resolve({"Ref": "AWS::StackName"})


def test_strings_of_numbers_and_booleans_are_written_as_cloudformation_does() -> None:
    assert resolver().string(3) == "3"
    assert resolver().string(True) == "true"
    assert resolver().resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_definition_text_for_objects_and_for_sam() -> None:
    value = {"StartAt": "Ä", "States": {"Ä": {"Type": "Succeed"}}, "Comment": "x"}
    assert definition_text(value) == json.dumps(value, indent=2, ensure_ascii=False)
    sam = definition_text(value, sam=True)
    assert sam.startswith('{\n    "Comment": "x",\n    "StartAt": "\\u00c4"')
    assert definition_text(value) == definition_text(json.loads(definition_text(value)))


def test_sam_numbers_its_substitutions_in_sorted_key_order() -> None:
    definition: dict[str, Any] = {
        "States": {"B": {"Resource": {"Ref": "Fn"}}, "A": {"Resource": {"Fn::GetAtt": "Fn.Arn"}}},
        "Comment": "{{resolve:ssm:/c}}",
    }
    generated = _sam_substitutions(definition)
    assert list(generated) == [f"definition_substitution_{n}" for n in (1, 2, 3)]
    assert generated["definition_substitution_1"] == ("{{resolve:ssm:/c}}", "Comment")
    assert generated["definition_substitution_2"][1] == "States.A.Resource"
    assert definition["States"]["B"]["Resource"] == "${definition_substitution_3}"


def test_yaml_short_form_tags_are_the_long_form(tmp_path: Path) -> None:
    text = (
        "AWSTemplateFormatVersion: 2010-09-09\n"
        "A: !Ref X\nB: !GetAtt R.Arn\nC: !Sub 'a-${X}'\nD: !Join [',', [!Ref X, b]]\n"
        "E: !If [Cond, !Select [0, !Split [',', 'a,b']], !ImportValue out]\n"
        "F: !FindInMap [M, !Ref AWS::Region, K]\nG: !Equals [a, b]\nH: !Condition C\n"
    )
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_template(path) == {
        "AWSTemplateFormatVersion": "2010-09-09",
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": ["R", "Arn"]},
        "C": {"Fn::Sub": "a-${X}"},
        "D": {"Fn::Join": [",", [{"Ref": "X"}, "b"]]},
        "E": {
            "Fn::If": [
                "Cond",
                {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
                {"Fn::ImportValue": "out"},
            ]
        },
        "F": {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "K"]},
        "G": {"Fn::Equals": ["a", "b"]},
        "H": {"Condition": "C"},
    }


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("bad.json", '{"a": 1,\n "b": }', "line 2, column 7"),
        ("bad.yaml", "a: [1, 2\nb: 3\n", "line 2"),
        ("list.yaml", "- a\n", "top level is not a mapping"),
    ],
)
def test_a_malformed_template_names_the_file_and_line(
    tmp_path: Path, name: str, text: str, where: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CompileError) as caught:
        load_template(path, name)
    assert name in caught.value.problems[0] and where in caught.value.problems[0]


def test_a_missing_template_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CompileError, match="does not exist"):
        load_template(tmp_path / "nope.yaml")


def test_definition_files_parse_without_cloudformation_tags(tmp_path: Path) -> None:
    with pytest.raises(CompileError, match="line 1"):
        parse("a: !Ref x\n", tmp_path / "d.yaml", "definition file", cloudformation=False)


def test_a_cdk_folder_is_read_in_sorted_order(tmp_path: Path) -> None:
    for name in (
        "b.template.json",
        "a.template.json",
        "assembly-Z/z.template.json",
        "assembly-A/y.template.json",
        "manifest.json",
        "tree.json",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}", encoding="utf-8")
    got = [p.relative_to(tmp_path).as_posix() for p in template_files([tmp_path])]
    assert got == [
        "a.template.json",
        "b.template.json",
        "assembly-A/y.template.json",
        "assembly-Z/z.template.json",
    ]
    with pytest.raises(CompileError, match="holds no"):
        (tmp_path / "empty").mkdir()
        template_files([tmp_path / "empty"])


def test_the_repository_reader_never_imports_boto3() -> None:
    folder = Path(__file__).parents[2] / "compiler" / "sfn_mcp" / "read" / "repository"
    for module in folder.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        names = [
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        ] + [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] in ("boto3", "botocore")], module
