"""On the local AWS: a workflow whose input schema has a password field and property names pydantic
would rename is compiled with ``sfn-mcp generate``, its tool is called over MCP stdio, and the
execution's recorded input (DescribeExecution) is exactly what the caller sent: nothing masked,
renamed, coerced or filled in."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROLE, generate, server, text

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

REGISTRY = "ai-workflows"
SCHEMA = "FidelityRequest"
HOSTILE = ["a-b", "a.b", "@type", "class", "schema", "json", "model_config", "größe", "名前",
           "with space", "$dollar", ""]  # fmt: skip
DOCUMENT = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": SCHEMA,
    "type": "object",
    "required": ["password"],
    "properties": {
        "password": {"type": "string", "format": "password", "minLength": 1},
        "count": {"type": "integer", "format": "int32", "default": 1},
        "ratio": {"type": "number", "format": "double"},
        **{name: {"type": "string"} for name in HOSTILE},
    },
}
SENT = {
    "password": 'hunter2 "quoted" ü',
    "count": 2.0,  # an integer in JSON Schema; a model dump would have made it 2
    "ratio": 1.0,
    **{name: f"value of {name!r}" for name in HOSTILE},
}
PREFIX = "sfn-fidelity-"


@pytest.fixture(scope="module")
def env(local_aws: Any) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STATE_MACHINE_"))}
    return base | dict(local_aws.env)


@pytest.fixture(scope="module")
def package_dir(
    local_aws: Any, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A STANDARD machine that passes its input on, typed by the schema, compiled on its own."""
    arn = local_aws.client("schemas").create_schema(
        RegistryName=REGISTRY, SchemaName=SCHEMA, Type="JSONSchemaDraft4",
        Content=json.dumps(DOCUMENT),
    )["SchemaArn"]  # fmt: skip
    definition = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}
    local_aws.client("stepfunctions").create_state_machine(
        name=f"{PREFIX}echo",
        definition=json.dumps(definition),
        roleArn=ROLE,
        tags=[{"key": "input-schema-arn", "value": arn}],
    )
    output = tmp_path_factory.mktemp("fidelity")
    generate(env, output, "--prefix", PREFIX, "--name", "fidelity_tools")
    return output


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


async def test_the_execution_input_is_exactly_what_the_caller_sent(
    package_dir: Path, env: dict[str, str], local_aws: Any
) -> None:
    async with server(package_dir, env, name="fidelity_tools") as session:
        listed = {t.name: t for t in (await session.list_tools()).tools}
        result = await session.call_tool("echo", SENT)
        refused = await session.call_tool("echo", {**SENT, "count": 2**31})
    published = listed["echo"].input_schema
    assert published["type"] == "object"
    assert published["properties"]["password"]["format"] == "password"
    assert published["properties"]["count"]["format"] == "int32"
    assert set(HOSTILE) <= set(published["properties"])
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    arn = result.structured_content["executionArn"]
    recorded = local_aws.client("stepfunctions").describe_execution(executionArn=arn)["input"]
    assert canonical(json.loads(recorded)) == canonical(SENT)
    assert '"count":2.0' in recorded.replace(" ", "")  # not coerced to 2
    assert canonical(result.structured_content["output"]) == canonical(SENT)
    assert refused.is_error and "- count: Input should be a valid int32 value" in text(refused)
