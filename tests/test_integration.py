"""End to end against the local AWS (ministack + the fake Schema Registry): compile the example
workflows, run the generated server as a subprocess over stdio, and drive it with the MCP SDK."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession

from sfn_mcp.write import read_tree
from tests.helpers import ROLE, generate, server, text

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

ROOT = Path(__file__).parents[1]

ORDER = {
    "orderId": "ORD-20261123",
    "customer": {"customerId": "CUST-77", "email": "ada@example.com", "tier": "gold"},
    "items": [
        {"sku": "KB-1001", "quantity": 1, "unitPrice": 89.5},
        {"sku": "MS-2002", "quantity": 2, "unitPrice": 25.0},
    ],
    "currency": "EUR",
}


def executions(local_aws: Any, name: str) -> int:
    sfn = local_aws.client("stepfunctions")
    arn = f"arn:aws:states:us-east-1:000000000000:stateMachine:{name}"
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=arn, PaginationConfig={"PageSize": 100}
    )
    return sum(len(page["executions"]) for page in pages)


@pytest.fixture(scope="module")
def aws_env(local_aws: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STATE_MACHINE_"))}
    return env | dict(local_aws.env)


@pytest.fixture(scope="module")
def package_dir(aws_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example package, generated with the repository's own [tool.sfn-mcp] settings."""
    output = tmp_path_factory.mktemp("generated")
    # over a copy of the committed package, as in the repository: the version is decided
    # against it (a package generated from nothing starts at 1.0.0)
    shutil.copytree(ROOT / "generated" / "ai_workflows", output / "ai_workflows")
    generate(aws_env, output)
    return output


def test_golden_record_matches_a_fresh_generate(package_dir: Path) -> None:
    fresh = read_tree(package_dir / "ai_workflows")
    committed = read_tree(ROOT / "generated" / "ai_workflows")
    assert sorted(fresh) == sorted(committed), "files differ: run `make generate` and commit"
    stale = [path for path in fresh if fresh[path] != committed[path]]
    assert stale == [], f"generated/ is stale in {stale}: run `make generate` and commit"


def test_regenerating_gives_byte_identical_files(
    aws_env: dict[str, str], package_dir: Path, tmp_path: Path
) -> None:
    shutil.copytree(ROOT / "generated" / "ai_workflows", tmp_path / "ai_workflows")
    generate(aws_env | {"PYTHONHASHSEED": "4242"}, tmp_path)
    assert read_tree(tmp_path / "ai_workflows") == read_tree(package_dir / "ai_workflows")


async def test_tools_list_shows_top_level_typed_schemas(
    package_dir: Path, aws_env: dict[str, str]
) -> None:
    async with server(package_dir, aws_env) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
    assert sorted(tools) == [
        "daily_etl", "document_analysis", "get_execution", "order_processing", "support_triage"
    ]  # fmt: skip
    order = tools["order_processing"].input_schema
    assert set(order["required"]) >= {"orderId", "customer", "items", "currency"}
    assert order["properties"]["currency"]["enum"] == ["USD", "EUR", "GBP"]
    assert "detail" not in order["properties"] and "parameters" not in order["properties"]
    etl = tools["daily_etl"].input_schema
    assert set(etl["required"]) == {"runDate", "tables"}
    assert etl["properties"]["tables"]["items"]["enum"] == ["orders", "customers", "inventory"]
    docs = tools["document_analysis"].input_schema
    assert set(docs["required"]) == {"bucket", "key"}
    assert tools["support_triage"].input_schema["additionalProperties"] is True
    assert "EXPRESS" in (tools["document_analysis"].description or "")


async def test_a_valid_call_runs_the_real_execution(
    package_dir: Path, aws_env: dict[str, str], local_aws: Any
) -> None:
    before = executions(local_aws, "ai-workflows-order-processing")
    async with server(package_dir, aws_env) as session:
        result = await session.call_tool("order_processing", ORDER)
    assert not result.is_error, text(result)
    data = result.structured_content
    assert data is not None and data["status"] == "SUCCEEDED"
    assert data["output"]["orderId"] == "ORD-20261123"
    assert data["output"]["status"] == "CONFIRMED"
    assert data["output"]["currency"] == "EUR"
    assert data["executionArn"].startswith("arn:aws:states:us-east-1:000000000000:execution:")
    assert executions(local_aws, "ai-workflows-order-processing") == before + 1
    described = local_aws.client("stepfunctions").describe_execution(
        executionArn=data["executionArn"]
    )
    event = json.loads(described["input"])  # what EventBridge would have delivered
    assert event["source"] == "com.example.shop" and event["detail-type"] == "OrderPlaced"
    assert event["detail"]["orderId"] == "ORD-20261123"


async def test_invalid_arguments_are_rejected_before_any_execution(
    package_dir: Path, aws_env: dict[str, str], local_aws: Any
) -> None:
    before = executions(local_aws, "ai-workflows-order-processing")
    bad = dict(ORDER, currency="JPY", items=[])
    async with server(package_dir, aws_env) as session:
        result = await session.call_tool("order_processing", bad)
    assert result.is_error
    assert "currency" in text(result) and "items" in text(result)
    assert "nothing was started" in text(result)
    assert executions(local_aws, "ai-workflows-order-processing") == before


async def test_unique_items_from_the_schema_are_published_and_enforced(
    package_dir: Path, aws_env: dict[str, str], local_aws: Any
) -> None:
    before = executions(local_aws, "ai-workflows-daily-etl")
    async with server(package_dir, aws_env) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        result = await session.call_tool(
            "daily_etl", {"runDate": "2026-11-20", "tables": ["orders", "orders"]}
        )
    assert tools["daily_etl"].input_schema["properties"]["tables"]["uniqueItems"] is True
    assert result.is_error
    assert "- tables: List should have unique items" in text(result)
    assert executions(local_aws, "ai-workflows-daily-etl") == before


async def test_the_failed_path_is_an_error_with_error_and_cause(
    package_dir: Path, aws_env: dict[str, str]
) -> None:
    order = dict(ORDER, orderId="ORD-40400", items=[{"sku": "OOS-404", "quantity": 1,
                                                     "unitPrice": 10}])  # fmt: skip
    async with server(package_dir, aws_env) as session:
        result = await session.call_tool("order_processing", order)
    assert result.is_error
    assert "FAILED with error OutOfStock" in text(result)
    assert "OOS-404" in text(result)
    assert result.structured_content is not None
    assert result.structured_content["error"] == "OutOfStock"
    assert "OOS-404" in result.structured_content["cause"]


async def test_express_and_jsonata_workflows_return_their_output(
    package_dir: Path, aws_env: dict[str, str]
) -> None:
    async with server(package_dir, aws_env) as session:
        analysis = await session.call_tool(
            "document_analysis",
            {"bucket": "ai-workflows-documents", "key": "docs/product-launch-memo.txt"},
        )
        triage = await session.call_tool(
            "support_triage",
            {"subject": "Checkout is down", "body": "Full outage since 9am", "customerTier":
             "enterprise"},
        )  # fmt: skip
    assert not analysis.is_error, text(analysis)
    assert analysis.structured_content is not None
    assert analysis.structured_content["output"]["results"]["wordCount"] > 0
    assert not triage.is_error, text(triage)
    assert triage.structured_content is not None
    assert triage.structured_content["output"]["priority"] == "P1"


@pytest.fixture(scope="module")
def slow_package(
    local_aws: Any, aws_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A test-only EXPRESS machine that waits 2 s, compiled into its own package."""
    definition = {
        "StartAt": "Wait",
        "States": {
            "Wait": {"Type": "Wait", "Seconds": 2, "Next": "Done"},
            "Done": {"Type": "Pass", "End": True},
        },
    }
    local_aws.client("stepfunctions").create_state_machine(
        name="sfn-test-slow-express", definition=json.dumps(definition), roleArn=ROLE,
        type="EXPRESS",
    )  # fmt: skip
    output = tmp_path_factory.mktemp("slow")
    generate(aws_env, output, "--prefix", "sfn-test-", "--name", "slow_tools")
    return output


async def test_a_slow_express_call_does_not_delay_tools_list(
    slow_package: Path, aws_env: dict[str, str]
) -> None:
    async with server(slow_package, aws_env, name="slow_tools") as session:
        await session.list_tools()  # warm up
        listed_after: list[float] = []
        call_took: list[float] = []

        async def call() -> None:
            started = time.monotonic()
            result = await session.call_tool("slow_express", {"n": 1})
            call_took.append(time.monotonic() - started)
            assert not result.is_error, text(result)

        async def list_during() -> None:
            await anyio.sleep(0.5)
            started = time.monotonic()
            await session.list_tools()
            listed_after.append(time.monotonic() - started)

        async with anyio.create_task_group() as group:
            group.start_soon(call)
            group.start_soon(list_during)
    print(
        f"\n2 s EXPRESS call: {call_took[0]:.2f} s; concurrent tools/list: {listed_after[0]:.3f} s"
    )
    assert call_took[0] >= 1.9
    assert listed_after[0] < 0.5


def test_more_than_one_page_of_machines_becomes_tools(
    local_aws: Any, aws_env: dict[str, str], tmp_path: Path
) -> None:
    sfn = local_aws.client("stepfunctions")
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    for i in range(105):
        sfn.create_state_machine(name=f"bulk-{i:03d}", definition=definition, roleArn=ROLE)
    result = generate(aws_env, tmp_path, "--prefix", "bulk-", "--name", "bulk_tools")
    assert "Wrote 105 tool(s)" in result.stderr
    tools_py = (tmp_path / "bulk_tools" / "tools.py").read_text()
    assert tools_py.count("    return Tool(\n") == 105
    assert 'name="104"' in tools_py  # a machine from the second page of ListStateMachines


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize("stateless", [False, True], ids=["sessions", "stateless"])
async def test_the_same_tools_are_served_over_streamable_http(
    package_dir: Path, aws_env: dict[str, str], stateless: bool
) -> None:
    from mcp import Client

    port = free_port()
    flags = ["--stateless"] if stateless else []
    messages: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message)

    process = subprocess.Popen(
        [sys.executable, "-m", "ai_workflows", "--transport", "http", "--port", str(port), *flags],
        cwd=package_dir,
        env=aws_env,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        deadline = time.monotonic() + 30
        while True:
            try:
                async with Client(url) as client:
                    tools = sorted(t.name for t in (await client.list_tools()).tools)
                    result = await client.call_tool(
                        "support_triage",
                        {"subject": "Refund please", "body": "charged twice"},
                        progress_callback=on_progress,
                    )
                break
            except Exception:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                await anyio.sleep(0.3)
        assert tools == [
            "daily_etl", "document_analysis", "get_execution", "order_processing", "support_triage"
        ]  # fmt: skip
        assert not result.is_error
        assert result.structured_content is not None
        assert result.structured_content["output"]["queue"] == "billing"
        assert messages and "ai-workflows-support-triage: RUNNING" in str(messages[0])
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stderr is not None
        process.stderr.close()


async def test_http_with_a_token_refuses_requests_without_it(
    package_dir: Path, aws_env: dict[str, str]
) -> None:
    import urllib.error
    import urllib.request

    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ai_workflows", "--transport", "http", "--port", str(port)],
        cwd=package_dir,
        env=aws_env | {"SFN_MCP_HTTP_TOKEN": "s3cret-token"},
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 30
        while True:
            request = urllib.request.Request(url, data=b"{}", method="POST")
            try:
                urllib.request.urlopen(request, timeout=5)
            except urllib.error.HTTPError as refused:
                status = refused.code
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                await anyio.sleep(0.3)
        assert status == 401
        headers = {"Authorization": "Bearer s3cret-token"}
        async with (
            create_mcp_http_client(headers=headers) as http,
            streamable_http_client(url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = [t.name for t in (await session.list_tools()).tools]
        assert "daily_etl" in tools
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stderr is not None
        process.stderr.close()


async def test_an_inferred_tool_refuses_a_wrong_type_and_runs_fields_inference_never_saw(
    package_dir: Path, aws_env: dict[str, str], local_aws: Any
) -> None:
    """support_triage has no schema: its input is inferred from the JSONata definition."""
    name = "ai-workflows-support-triage"
    before = executions(local_aws, name)
    async with server(package_dir, aws_env) as session:
        listed = {t.name: t for t in (await session.list_tools()).tools}
        schema = listed["support_triage"].input_schema
        assert schema["properties"]["customerTier"]["type"] == "string"
        assert "Read by states" in schema["properties"]["customerTier"]["description"]
        wrong = await session.call_tool(
            "support_triage", {"subject": "Invoice", "body": "x", "customerTier": 5}
        )
        assert wrong.is_error and "customerTier" in text(wrong)
        assert executions(local_aws, name) == before  # refused before any execution
        extra = await session.call_tool(
            "support_triage",
            {"subject": "Refund please", "body": "charged twice", "customerTier": "gold",
             "ticketId": "T-77", "channel": {"kind": "email"}},
        )  # fmt: skip
    assert not extra.is_error, text(extra)
    assert extra.structured_content is not None
    assert extra.structured_content["output"]["queue"] == "billing"
    arn = str(extra.structured_content["executionArn"])
    recorded = local_aws.client("stepfunctions").describe_execution(executionArn=arn)["input"]
    assert json.loads(recorded)["ticketId"] == "T-77"  # objects stay open: passed on as sent
