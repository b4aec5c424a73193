"""Where a tool's input comes from: a registry schema, else the configuration's schema file,
else inference from the definition, else any JSON object; ``input`` per workflow overrides."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.pipeline import compile_records
from sfn_mcp.settings import load_settings
from tests.sources import SHIPMENT, machine, schema

READS_AMOUNT = json.dumps({
    "StartAt": "Big?",
    "States": {
        "Big?": {"Type": "Choice", "Default": "Done",
                 "Choices": [{"Variable": "$.amount", "NumericGreaterThan": 100, "Next": "Done"}]},
        "Done": {"Type": "Succeed"},
    },
})  # fmt: skip
FILE_SCHEMA = {"title": "Refund", "type": "object", "required": ["orderId"],
               "properties": {"orderId": {"type": "string"}}}  # fmt: skip


def compiled(tmp_path: Path, workflows: str) -> dict[str, dict[str, object]]:
    (tmp_path / "schemas").mkdir(exist_ok=True)
    (tmp_path / "schemas" / "refund.json").write_text(json.dumps(FILE_SCHEMA))
    (tmp_path / "pyproject.toml").write_text(f'[tool.sfn-mcp]\nprefix = "shop-"\n{workflows}')
    settings = load_settings({}, env={}, cwd=tmp_path)
    machines = [
        replace(machine("shop-registry", source=schema("Shipment", SHIPMENT, "JSONSchemaDraft4")),
                definition=READS_AMOUNT),
        replace(machine("shop-file"), definition=READS_AMOUNT),
        replace(machine("shop-inferred"), definition=READS_AMOUNT),
        replace(machine("shop-loose"), definition=READS_AMOUNT),
    ]  # fmt: skip
    surface = json.loads(compile_records(settings, machines).files["surface.json"])
    return {t["name"]: t for t in surface["tools"]}


def test_registry_then_file_then_inference_then_any_object(tmp_path: Path) -> None:
    tools = compiled(
        tmp_path,
        '[tool.sfn-mcp.workflows."shop-registry"]\nschema-file = "schemas/refund.json"\n'
        '[tool.sfn-mcp.workflows."shop-file"]\nschema-file = "schemas/refund.json"\n'
        '[tool.sfn-mcp.workflows."shop-loose"]\ninput = "free-form"\n',
    )
    assert tools["registry"]["inputSchemaSource"]["arn"].endswith("/Shipment")
    assert tools["file"]["inputSchemaSource"]["file"] == "refund"
    assert tools["file"]["inputSchema"]["required"] == ["orderId"]
    assert tools["inferred"]["inputSchemaSource"]["inferredFrom"] == "definition"
    assert tools["inferred"]["inputSchema"]["properties"]["amount"]["type"] == "number"
    assert tools["loose"]["inputSchemaSource"] is None


def test_input_inferred_wins_over_a_file_and_schema_never_infers(tmp_path: Path) -> None:
    tools = compiled(
        tmp_path,
        '[tool.sfn-mcp.workflows."shop-file"]\nschema-file = "schemas/refund.json"\n'
        'input = "inferred"\n'
        '[tool.sfn-mcp.workflows."shop-inferred"]\ninput = "schema"\n',
    )
    assert tools["file"]["inputSchemaSource"]["inferredFrom"] == "definition"
    assert tools["inferred"]["inputSchemaSource"] is None


def test_an_unreadable_schema_file_is_an_error_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(CompileError) as raised:
        compiled(tmp_path, '[tool.sfn-mcp.workflows."shop-file"]\nschema-file = "nope.json"\n')
    assert '[tool.sfn-mcp.workflows."shop-file"] schema-file: cannot read' in raised.value.render()
