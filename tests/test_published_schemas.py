"""The published schema is the source schema, and what a caller sends reaches the workflow exactly.

One case folder per keyword class, ``tests/models/cases/<case>/``:

* ``schema.json`` and ``type``: a schema as the registry returns it (``OpenApi3`` or
  ``JSONSchemaDraft4``);
* ``expected-input-schema.json``: the tool's ``inputSchema``, exactly (``UPDATE_SNAPSHOTS=1``
  rewrites it; review the diff);
* ``accepted.json``: arguments that must be accepted and reach StartSyncExecution unchanged (as
  JSON: ``json.dumps`` with sorted keys of what the scripted endpoint received equals that of
  what was sent);
* ``refused.json``: ``{"arguments", "expect"}`` pairs: arguments refused before any AWS call,
  with each ``expect`` line in the message (they name the field).

The module comes from the models stage (datamodel-code-generator plus ``INPUT_SCHEMA``), the tool
from the runtime as tools.py builds it, and every call goes through the low-level MCP server.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from mcp import Client

from sfn_mcp.models import generate_model
from sfn_mcp_runtime.definitions import ExecutionResult, Tool
from sfn_mcp_runtime.execution import run_workflow, workflow_input
from sfn_mcp_runtime.server import build_server
from tests.fake_sfn import EXPRESS, FakeSfn, text_of
from tests.sources import schema

CASES = sorted(p for p in (Path(__file__).parent / "models" / "cases").iterdir() if p.is_dir())
pytestmark = pytest.mark.anyio


def read(case: Path, name: str) -> Any:
    return json.loads((case / name).read_text(encoding="utf-8"))


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def module_of(case: Path) -> tuple[ModuleType, str]:
    """The generated input module of the case's schema, imported, and its root class name."""
    source = schema(case.name, read(case, "schema.json"), kind=(case / "type").read_text().strip())
    generated = generate_model(source, profile="exact")
    module = ModuleType(f"published_{case.name.replace('-', '_')}_{len(sys.modules)}")
    sys.modules[module.__name__] = module
    exec(compile(generated.source, module.__name__, "exec"), module.__dict__)  # noqa: S102
    assert generated.input_schema == module.INPUT_SCHEMA
    return module, generated.root_class


def tool_of(case: Path) -> Tool[Any]:
    module, root = module_of(case)

    async def run(arguments: Any) -> ExecutionResult:
        return await run_workflow(EXPRESS, workflow_input(arguments))

    return Tool(
        name="t",
        title="T",
        description="d",
        workflow=EXPRESS,
        input_model=getattr(module, root),
        schema=module.INPUT_SCHEMA,
        run=run,
    )


def sent_inputs(sfn: FakeSfn) -> list[Any]:
    return [json.loads(body["input"]) for action, body, _ in sfn.requests]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_published_schema_is_the_expected_one(case: Path) -> None:
    published = tool_of(case).input_schema
    expected = case / "expected-input-schema.json"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        expected.write_text(json.dumps(published, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert published == read(case, "expected-input-schema.json")
    assert published["type"] == "object"  # MCP requires it at the root


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_accepted_arguments_reach_the_workflow_as_sent(case: Path, sfn: FakeSfn) -> None:
    sfn.routes["StartSyncExecution"] = lambda body: (
        200,
        {"executionArn": "arn:e", "status": "SUCCEEDED", "output": "{}", "startDate": 0},
    )
    accepted = read(case, "accepted.json")
    server = build_server("s", version="1", instructions="i", tools=(tool_of(case),))
    async with Client(server) as client:
        for arguments in accepted:
            result = await client.call_tool("t", arguments)
            assert not result.is_error, text_of(result)
    assert [canonical(sent) for sent in sent_inputs(sfn)] == [canonical(a) for a in accepted]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_refused_arguments_name_the_field(case: Path, sfn: FakeSfn) -> None:
    server = build_server("s", version="1", instructions="i", tools=(tool_of(case),))
    async with Client(server) as client:
        for refusal in read(case, "refused.json"):
            result = await client.call_tool("t", refusal["arguments"])
            text = text_of(result)
            assert result.is_error, refusal
            assert text.startswith("Invalid arguments for t; nothing was started:"), text
            for line in refusal["expect"]:
                assert line in text.splitlines(), f"{line!r} not in:\n{text}"
    assert sfn.requests == []


def test_the_module_holds_the_schema_in_ascii_only() -> None:
    """No control, bidi or other non-ASCII character from AWS reaches the file a reviewer reads;
    the value, escaped, is the same."""
    case = next(c for c in CASES if c.name == "hostile-names")
    source = generate_model(
        schema(case.name, read(case, "schema.json"), kind="JSONSchemaDraft4")
    ).source
    constant = source[source.index("INPUT_SCHEMA") :]
    assert constant.isascii()
    assert "\\u202e" in constant and "\\u540d\\u524d" in constant  # the RLO, and 名前
    module, _ = module_of(case)
    assert module.INPUT_SCHEMA["description"].endswith("\u202e\u200b and a right-to-left override.")
