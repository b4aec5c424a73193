"""select → pull → IR → render against real HTTP endpoints: moto's Step Functions server and the
project's fake Schema Registry (both in threads on 127.0.0.1). Fast control-plane checks; the
workflows really run in the ministack integration tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from localaws.schema_registry import start_in_thread
from sfn_mcp.diagnostics import CompileError, Diagnostics
from sfn_mcp.pipeline import compile_package
from sfn_mcp.read.aws import Aws
from sfn_mcp.read.select import select
from sfn_mcp.settings import Settings, load_settings
from tests.faults import Rule, fault_proxy
from tests.sources import ORDER_PLACED, SHIPMENT

ROLE = "arn:aws:iam::000000000000:role/sfn"
ARN_PREFIX = "arn:aws:states:us-east-1:000000000000:stateMachine:"
DEFINITION = json.dumps(
    {"Comment": "Echo.", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
)
SFN_MCP = Path(sys.executable).with_name("sfn-mcp")


class Account:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.sfn: Any = boto3.client("stepfunctions")
        self.schemas: Any = boto3.client("schemas")
        self.registry = "reg"
        self.schemas.create_registry(RegistryName=self.registry)

    def machine(
        self, name: str, *, kind: str = "STANDARD", tags: dict[str, str] | None = None
    ) -> str:
        arn: str = self.sfn.create_state_machine(
            name=name,
            definition=DEFINITION,
            roleArn=ROLE,
            type=kind,
            tags=[{"key": k, "value": v} for k, v in (tags or {}).items()],
        )["stateMachineArn"]
        return arn

    def schema(self, name: str, document: Any, kind: str = "OpenApi3") -> str:
        arn: str = self.schemas.create_schema(
            RegistryName=self.registry, SchemaName=name, Type=kind, Content=json.dumps(document)
        )["SchemaArn"]
        return arn


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Account]:
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    # moto keeps its backends per process: start every test from an empty account
    urllib.request.urlopen(
        urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST")
    )
    registry, registry_url = start_in_thread()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ENDPOINT_URL_SCHEMAS": registry_url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # one account for both endpoints, as in AWS (the fake registry's is 000000000000)
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "000000000000")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.chdir(tmp_path)
    yield Account(env)
    registry.shutdown()
    moto.stop()


def settings(**values: Any) -> Settings:
    return load_settings(values, env={}, cwd=Path.cwd())


def test_more_than_one_page_of_machines_is_read(account: Account) -> None:
    for i in range(120):
        account.machine(f"bulk-{i:03d}")
    account.machine("zz-listed-on-page-two")
    chosen = select(
        Aws(settings()),
        settings(prefix="bulk-", **{"state-machines": ["zz-listed-on-page-two"]}),
        Diagnostics(),
    )
    names = [s.machine.name for s in chosen]
    assert len(names) == 121
    assert names[-1] == "zz-listed-on-page-two"


def test_tag_filter_applies_after_the_name_filter(account: Account) -> None:
    account.machine("p-a", tags={"team": "ai"})
    account.machine("p-b", tags={"team": "web"})
    account.machine("q-c", tags={"team": "ai"})
    chosen = select(Aws(settings()), settings(prefix="p-", tag="team=ai"), Diagnostics())
    assert [s.machine.name for s in chosen] == ["p-a"]
    assert chosen[0].tags == {"team": "ai"}


def test_a_listed_name_that_does_not_exist_is_an_error(account: Account) -> None:
    account.machine("p-a")
    with pytest.raises(CompileError, match="'p-typo' \\(from the name list\\) does not exist"):
        select(Aws(settings()), settings(**{"state-machines": ["p-a", "p-typo"]}), Diagnostics())
    for wrong, hint in (("p-a,p-b", "repeat --state-machine"), (ARN_PREFIX + "p-a", "not its ARN")):
        with pytest.raises(CompileError) as raised:
            select(Aws(settings()), settings(**{"state-machines": [wrong]}), Diagnostics())
        assert hint in raised.value.render()


def test_compiles_schemas_of_both_formats_and_free_form(account: Account) -> None:
    order = account.schema("com.example.shop@OrderPlaced", ORDER_PLACED)
    ship = account.schema("Shipment", SHIPMENT, kind="JSONSchemaDraft4")
    account.machine("p-order", tags={"schema": order})
    account.machine("p-ship", kind="EXPRESS", tags={"schema": ship})
    account.machine("p-free")
    compiled = compile_package(settings(prefix="p-", **{"schema-tag-key": "schema"}))
    tools = {t.name: t for t in compiled.package.tools}
    assert tools["order"].input.mode == "envelope"
    assert tools["order"].schema is not None and tools["order"].schema.version == "1"
    assert tools["ship"].input.model_class == "Shipment"
    assert tools["free"].input.mode == "free-form"
    assert "models/order_placed.py" in compiled.files
    assert tools["order"].description.startswith("Echo.")


def test_unsupported_schema_format_names_machine_and_schema(account: Account) -> None:
    avro = account.schema("Legacy", {"type": "record", "name": "x"}, kind="Avro")
    account.machine("p-legacy", tags={"schema": avro})
    compiled = compile_package(settings(prefix="p-", **{"schema-tag-key": "schema"}))
    (warning,) = [d for d in compiled.diagnostics if d.level == "warning"]
    assert "schema reg/Legacy v1 (tagged on p-legacy) has format 'Avro'" in warning.message
    assert "OpenApi3 and JSONSchemaDraft4" in warning.message
    assert compiled.package.tools[0].input.untyped_reason == "no schema tag" or (
        compiled.package.tools[0].input.mode == "free-form"
    )
    with pytest.raises(CompileError, match="has format 'Avro'"):
        compile_package(settings(prefix="p-", strict=True, **{"schema-tag-key": "schema"}))


def test_missing_schema_names_the_schema_the_machine_and_the_aws_code(account: Account) -> None:
    gone = "arn:aws:schemas:us-east-1:000000000000:schema/reg/Gone"
    account.machine("p-a", tags={"schema": gone})
    account.machine("p-b", tags={"schema": "not-an-arn"})
    account.machine("p-c", tags={"shcema": gone})
    compiled = compile_package(settings(prefix="p-", **{"schema-tag-key": "schema"}))
    assert [t.input.mode for t in compiled.package.tools] == ["free-form"] * 3
    warnings = [d.message for d in compiled.diagnostics if d.level == "warning"]
    assert len(warnings) == 3, warnings
    assert any("tag schema='not-an-arn' is not a schema ARN" in w for w in warnings)
    assert any(
        "schema reg/Gone (tagged on p-a): DescribeSchema failed: NotFoundException" in w
        for w in warnings
    )
    assert any("no tag 'schema' but a tag 'shcema'" in w and "did you mean" in w for w in warnings)
    with pytest.raises(CompileError) as raised:
        compile_package(settings(prefix="p-", strict=True, **{"schema-tag-key": "schema"}))
    assert len(raised.value.diagnostics) == 3  # every problem at once


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SFN_MCP), "generate", *args],
        env={"PATH": os.environ["PATH"], **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_writes_the_package_and_reports_the_tools(account: Account, tmp_path: Path) -> None:
    account.machine("p-order-lookup", kind="EXPRESS")
    result = run_cli("--prefix", "p-", "--name", "lookups", "-o", "out", env=account.env,
                     cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "order_lookup  EXPRESS   free-form input (no schema tag)" in result.stderr
    assert (tmp_path / "out" / "lookups" / "tools.py").is_file()


@pytest.mark.parametrize(
    ("args", "env_change", "expected"),
    [
        (["--prefix", "nothing-"], {}, "no state machine in us-east-1 matches prefix 'nothing-'"),
        ([], {"STATE_MACHINE_TAG_KEY": "team"}, "a tag filter needs both a key and a value"),
        (["--prefix", "p-"], {"AWS_REGION": "", "AWS_DEFAULT_REGION": ""}, "no AWS region"),
        (["--prefix", "p-"], {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, "cannot reach AWS"),
        (["--prefix", "p-"], {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
         "no usable AWS credentials"),
        (["--name", "Bad-Name"], {}, "must be a lowercase Python identifier"),
        (["--tag", "a=b", "--tag", "c=d"], {}, "one --tag filter at a time"),
    ],
)  # fmt: skip
def test_cli_errors_are_one_clear_message_without_traceback(
    account: Account, tmp_path: Path, args: list[str], env_change: dict[str, str], expected: str
) -> None:
    account.machine("p-a")
    env = {k: v for k, v in (account.env | env_change).items() if v}
    result = run_cli(*args, env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert "hint:" in result.stderr or "error:" in result.stderr
    assert not (tmp_path / "p").exists()


def test_a_workflow_can_pin_its_schema_version(account: Account, tmp_path: Path) -> None:
    arn = account.schema("Shipment", SHIPMENT, kind="JSONSchemaDraft4")
    changed = dict(SHIPMENT, required=["shipmentId", "weight"])
    account.schemas.update_schema(
        RegistryName="reg", SchemaName="Shipment", Type="JSONSchemaDraft4",
        Content=json.dumps(changed),
    )  # fmt: skip
    account.machine("p-pinned", tags={"schema": arn})
    account.machine("p-latest", tags={"schema": arn})
    (tmp_path / "pyproject.toml").write_text(
        '[tool.sfn-mcp]\nprefix = "p-"\nschema-tag-key = "schema"\n'
        '[tool.sfn-mcp.workflows."p-pinned"]\nschema-version = "1"\n'
    )
    compiled = compile_package(load_settings({}, env={}, cwd=tmp_path))
    versions = {t.name: t.schema.version for t in compiled.package.tools if t.schema}
    assert versions == {"latest": "2", "pinned": "1"}
    assert len(compiled.package.modules) == 2

    (tmp_path / "pyproject.toml").write_text(
        '[tool.sfn-mcp]\nprefix = "p-"\nschema-tag-key = "schema"\n'
        '[tool.sfn-mcp.workflows."p-pinned"]\nschema-version = "7"\n'
    )
    with pytest.raises(CompileError) as raised:
        compile_package(load_settings({}, env={}, cwd=tmp_path))
    assert "schema reg/Shipment version 7 (tagged on p-pinned): DescribeSchema failed: " in (
        raised.value.render()
    )
    assert "NotFoundException" in raised.value.render()


@pytest.mark.parametrize("answer", ["empty", "html", "{}"])
@pytest.mark.parametrize(
    ("rule", "named"),
    [
        (Rule("", target="DescribeStateMachine"), "state machine 'p-order'"),
        (Rule("", target="ListTagsForResource"), "state machine 'p-order'"),
        (Rule("", target="ListStateMachines"), "ListStateMachines"),
        (Rule("", path="/schemas/name/OrderPlaced"), "OrderPlaced"),
    ],
    ids=["describe", "tags", "list", "schema"],
)
def test_a_garbage_answer_is_an_error_naming_the_call_never_a_quietly_untyped_tool(
    account: Account, monkeypatch: pytest.MonkeyPatch, rule: Rule, named: str, answer: str
) -> None:
    order = account.schema("OrderPlaced", ORDER_PLACED)
    account.machine("p-order", tags={"schema": order})
    upstream = account.env["AWS_ENDPOINT_URL_SCHEMAS" if rule.path else "AWS_ENDPOINT_URL"]
    with fault_proxy(upstream) as proxy:
        rule.answer = answer
        proxy.rules.append(rule)
        variable = "AWS_ENDPOINT_URL_SCHEMAS" if rule.path else "AWS_ENDPOINT_URL"
        monkeypatch.setenv(variable, proxy.url)
        with pytest.raises(CompileError) as raised:
            compile_package(settings(prefix="p-", **{"schema-tag-key": "schema"}))
    assert rule.hits >= 1
    text = raised.value.render()
    assert named in text and "internal error" not in text
