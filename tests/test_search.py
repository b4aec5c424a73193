"""A package too large to list whole, and a part of one: the search surface (find_workflows,
describe_workflow, run_workflow), the server's filters (--tool, --tag, --read-only and their
variables) and tools/list pages, with generated servers as stdio subprocesses against the local
AWS, driven by the SDK client and by mcpc (a client nobody here wrote)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult

from tests.helpers import ROLE, generate, text
from tests.test_tasks import mcpc

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

PREFIX = "sfn-search-"
PACKAGE = "search_tools"


def _echo(comment: str, *, wait: int = 0) -> dict[str, Any]:
    states: dict[str, Any] = {"Done": {"Type": "Pass", "Parameters": {"given.$": "$"}, "End": True}}
    if wait:
        states["Wait"] = {"Type": "Wait", "Seconds": wait, "Next": "Done"}
    return {"Comment": comment, "StartAt": "Wait" if wait else "Done", "States": states}


MACHINES: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {
    "refund-order": (
        "STANDARD",
        _echo("Refunds a paid order to the customer's card."),
        {"team": "payments"},
    ),
    "order-status": ("EXPRESS", _echo("Reads the status of one order."), {"team": "payments"}),
    "ship-parcel": ("STANDARD", _echo("Books a courier to ship a parcel."), {"team": "logistics"}),
    "nightly-report": ("STANDARD", _echo("Builds the nightly sales report."), {"team": "data"}),
    "list-orders": ("EXPRESS", _echo("Lists the orders of one customer."), {"team": "payments"}),
    "slow-echo": ("STANDARD", _echo("Waits two seconds, then echoes its input.", wait=2), {}),
}
REFUND_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Refund",
    "type": "object",
    "properties": {
        "orderId": {"type": "string", "pattern": "^ORD-[0-9]+$"},
        "amount": {"type": "number", "exclusiveMinimum": 0},
    },
    "required": ["orderId", "amount"],
    "additionalProperties": False,
}
CONFIG = f"""
prefix = "{PREFIX}"
name = "{PACKAGE}"
surface = "search"
poll-interval-seconds = 1

[workflows."{PREFIX}refund-order"]
schema-file = "refund.json"
read-only = false
destructive = true

[workflows."{PREFIX}ship-parcel"]
read-only = false
destructive = false
"""
WORKFLOWS = {
    "list_orders", "nightly_report", "order_status", "refund_order", "ship_parcel", "slow_echo"
}  # fmt: skip
SEARCH_TOOLS = ["find_workflows", "describe_workflow", "run_workflow", "get_execution"]


@pytest.fixture(scope="module")
def aws_env(local_aws: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SFN_MCP_"))}
    return env | dict(local_aws.env)


@pytest.fixture(scope="module")
def package(local_aws: Any, aws_env: dict[str, str], tmp_path_factory: Any) -> Path:
    sfn = local_aws.client("stepfunctions")
    for name, (kind, definition, tags) in MACHINES.items():
        sfn.create_state_machine(
            name=PREFIX + name,
            type=kind,
            definition=json.dumps(definition),
            roleArn=ROLE,
            tags=[{"key": k, "value": v} for k, v in tags.items()],
        )
    output = tmp_path_factory.mktemp("search")
    (output / "refund.json").write_text(json.dumps(REFUND_SCHEMA), encoding="utf-8")
    config = output / "sfn-mcp.toml"
    config.write_text(CONFIG, encoding="utf-8")
    generate(aws_env, output, "--config", str(config))
    return output


@asynccontextmanager
async def connected(
    package: Path, env: dict[str, str], *args: str, mode: str = "auto"
) -> AsyncIterator[Client]:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", PACKAGE, *args], cwd=str(package), env=env
    )
    async with Client(params, mode=mode) as client:  # type: ignore[arg-type]
        yield client


async def names(client: Client) -> list[str]:
    return [tool.name for tool in (await client.list_tools()).tools]


def data(result: CallToolResult) -> dict[str, Any]:
    assert result.structured_content is not None, text(result)
    return result.structured_content


def exit_two(server: subprocess.CompletedProcess[str]) -> str:
    assert server.returncode == 2, server.stdout + server.stderr
    return server.stderr


def refused_at_start(package: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", PACKAGE, *args],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return exit_two(done)


# --- the search surface -------------------------------------------------------------------------


async def test_the_search_surface_lists_a_few_tools_whose_run_hints_are_the_most_cautious(
    package: Path, aws_env: dict[str, str]
) -> None:
    async with connected(package, aws_env) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert list(listed) == SEARCH_TOOLS
        run = listed["run_workflow"]
        assert run.annotations is not None
        # refund_order may destroy, so run_workflow may; not all are read-only or idempotent
        assert run.annotations.read_only_hint is False
        assert run.annotations.destructive_hint is True
        assert run.annotations.idempotent_hint is False
        find = listed["find_workflows"]
        assert find.annotations is not None and find.annotations.read_only_hint is True
        assert "find_workflows" in (client.instructions or "")
    # 2025-11-25 tools say whether they may run as a task: run_workflow may, for STANDARD ones
    async with connected(package, aws_env, mode="legacy") as client:
        run = {t.name: t for t in (await client.list_tools()).tools}["run_workflow"]
        assert run.execution is not None and run.execution.task_support == "optional"
    # a read-only part of the package: run_workflow can only read, so it says so
    async with connected(package, aws_env, "--read-only") as client:
        run = {t.name: t for t in (await client.list_tools()).tools}["run_workflow"]
        assert run.annotations is not None
        assert run.annotations.read_only_hint is True
        assert run.annotations.destructive_hint is False


async def test_find_ranks_workflows_by_the_words_of_the_query(
    package: Path, aws_env: dict[str, str]
) -> None:
    async with connected(package, aws_env) as client:

        async def found(**arguments: Any) -> dict[str, Any]:
            result = await client.call_tool("find_workflows", arguments)
            assert not result.is_error, text(result)
            return data(result)

        refund = await found(query="refund")
        assert [w["name"] for w in refund["workflows"]][:1] == ["refund_order"]
        assert refund["workflows"][0]["summary"] == "Refunds a paid order to the customer's card."
        assert refund["workflows"][0]["readOnly"] is False
        # plural and word order do not matter; the name counts most
        orders = await found(query="Orders")
        assert [w["name"] for w in orders["workflows"]][0] == "list_orders"
        assert {w["name"] for w in orders["workflows"]} == {
            "list_orders", "order_status", "refund_order"
        }  # fmt: skip
        # a query that spells a name ranks that workflow first, over rarer words elsewhere
        for spelled in ("order_status", "order status", "ORDER STATUS", "Order status"):
            assert (await found(query=spelled))["workflows"][0]["name"] == "order_status"
        # a word every generated description has tells nothing apart there, but names count
        assert [w["name"] for w in (await found(query="status"))["workflows"]] == ["order_status"]
        for common in ("the", "workflow"):
            assert (await found(query=common))["total"] == 0, common
        # word forms and typos
        assert (await found(query="shipping"))["workflows"][0]["name"] == "ship_parcel"
        assert (await found(query="refnd"))["workflows"][0]["name"] == "refund_order"
        punctuation = await found(query="!!!")
        assert punctuation["total"] == len(WORKFLOWS) and "no words" in punctuation["hint"]
        courier = await found(query="courier for a parcel")
        assert courier["workflows"][0]["name"] == "ship_parcel"
        # tags are searched too
        assert (await found(query="logistics"))["workflows"][0]["name"] == "ship_parcel"
        # an empty query lists every workflow by name, a page at a time
        first = await found(query="", limit=2)
        assert first["total"] == len(WORKFLOWS)
        assert [w["name"] for w in first["workflows"]] == sorted(WORKFLOWS)[:2]
        assert "offset 2" in first["hint"]
        rest = await found(query="", limit=10, offset=2)
        assert [w["name"] for w in rest["workflows"]] == sorted(WORKFLOWS)[2:]
        nothing = await found(query="zebra")
        assert nothing["total"] == 0 and nothing["workflows"] == [] and "hint" in nothing
        for bad_arguments in ({"query": "x", "limit": 500}, {"query": "x", "limit": "3"}):
            bad = await client.call_tool("find_workflows", bad_arguments)
            assert bad.is_error and "limit" in text(bad)


async def test_describe_gives_the_entry_the_workflows_own_tool_would_list(
    package: Path, aws_env: dict[str, str]
) -> None:
    # (a 2025-11-25 client: it keeps each tool's `execution`, which 2026-07-28 has not)
    async with connected(package, aws_env, "--surface", "all", mode="legacy") as client:
        own = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(own) == WORKFLOWS | {"get_execution"}
    async with connected(package, aws_env) as client:
        for name in ("refund_order", "order_status"):
            result = await client.call_tool("describe_workflow", {"name": name})
            described = data(result)
            listed = own[name].model_dump(mode="json", by_alias=True, exclude_none=True)
            assert {k: v for k, v in described.items() if k != "howToRun"} == listed
            assert "run_workflow" in described["howToRun"]
        schema = data(await client.call_tool("describe_workflow", {"name": "refund_order"}))
        assert schema["inputSchema"]["properties"]["orderId"]["pattern"] == "^ORD-[0-9]+$"
        for misspelt in ("refund_ordr", "Refund_Order"):
            missing = await client.call_tool("describe_workflow", {"name": misspelt})
            assert missing.is_error and "Did you mean refund_order" in text(missing)


async def test_run_workflow_checks_and_answers_exactly_as_the_workflows_own_tool(
    package: Path, aws_env: dict[str, str], count_executions: Any
) -> None:
    wrong = {"orderId": "77", "amount": -1}
    async with connected(package, aws_env, "--surface", "all") as client:
        direct = await client.call_tool("refund_order", wrong)
    async with connected(package, aws_env) as client:
        via = await client.call_tool("run_workflow", {"name": "refund_order", "arguments": wrong})
        assert via.is_error and direct.is_error
        assert text(via) == text(direct)
        assert "nothing was started" in text(via)
        assert count_executions(PREFIX + "refund-order") == 0

        arguments = {"orderId": "ORD-1", "amount": 12.5, "idempotency_key": "refund-ord-1"}
        first = data(
            await client.call_tool("run_workflow", {"name": "refund_order", "arguments": arguments})
        )
        assert first["status"] == "SUCCEEDED"
        # the caller's JSON reaches the workflow exactly; the key is the execution's name
        assert first["output"] == {"given": {"orderId": "ORD-1", "amount": 12.5}}
        assert first["executionArn"].endswith(":refund-ord-1")
        again = data(
            await client.call_tool("run_workflow", {"name": "refund_order", "arguments": arguments})
        )
        assert again["executionArn"] == first["executionArn"]
        assert count_executions(PREFIX + "refund-order") == 1

        unknown = await client.call_tool("run_workflow", {"name": "refund"})  # name first
        assert unknown.is_error and "Did you mean refund_order" in text(unknown)
        assert "Nothing was started" in text(unknown)
        # a workflow of no arguments needs none here either
        bare = await client.call_tool("run_workflow", {"name": "list_orders"})
        assert data(bare)["status"] == "SUCCEEDED" and data(bare)["output"] == {"given": {}}
        # on the search surface only what tools/list lists is callable
        direct = await client.call_tool("refund_order", {"orderId": "ORD-2", "amount": 1})
        assert direct.is_error and "run it with run_workflow" in text(direct)
        own_tool = await client.call_tool(
            "run_workflow", {"name": "get_execution", "arguments": {}}
        )
        assert own_tool.is_error
        assert count_executions(PREFIX + "refund-order") == 1


async def test_run_workflow_reports_progress_like_the_tool(
    package: Path, aws_env: dict[str, str]
) -> None:
    seen: list[float] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append(value)

    async with connected(package, aws_env) as client:
        result = await client.call_tool(
            "run_workflow",
            {"name": "slow_echo", "arguments": {"step": 1}},
            progress_callback=progress,
        )
    assert data(result)["status"] == "SUCCEEDED"
    assert data(result)["output"] == {"given": {"step": 1}}
    assert seen, "no progress notification reached the client"


# --- filters ------------------------------------------------------------------------------------


async def test_filters_offer_a_part_of_the_package_and_nothing_else_can_be_called(
    package: Path, aws_env: dict[str, str], count_executions: Any
) -> None:
    all_ = ("--surface", "all")
    async with connected(
        package, aws_env, *all_, "--tool", "ship_parcel", "--tool", "order_status"
    ) as client:
        assert await names(client) == ["order_status", "ship_parcel", "get_execution"]
        hidden = await client.call_tool("nightly_report", {})
        assert hidden.is_error and "Unknown tool" in text(hidden)
    assert count_executions(PREFIX + "nightly-report") == 0
    async with connected(package, aws_env, *all_, "--tag", "team=payments") as client:
        assert await names(client) == [
            "list_orders", "order_status", "refund_order", "get_execution"
        ]  # fmt: skip
    async with connected(package, aws_env, *all_, "--tag", "team", "--read-only") as client:
        assert await names(client) == [
            "list_orders", "nightly_report", "order_status", "get_execution"
        ]  # fmt: skip
    tagged = aws_env | {"SFN_MCP_TAGS": "team=data", "SFN_MCP_SURFACE": "all"}
    async with connected(package, tagged) as client:
        assert await names(client) == ["nightly_report", "get_execution"]
        # get_execution follows this part's workflows only
        other = f"arn:aws:states:us-east-1:000000000000:execution:{PREFIX}refund-order:refund-ord-1"
        refused = await client.call_tool("get_execution", {"execution_arn": other})
        assert refused.is_error
    # the search tools search and run the chosen part only
    async with connected(package, aws_env, "--tag", "team=logistics") as client:
        found = data(await client.call_tool("find_workflows", {"query": ""}))
        assert [w["name"] for w in found["workflows"]] == ["ship_parcel"]
        blocked = await client.call_tool(
            "run_workflow", {"name": "nightly_report", "arguments": {}}
        )
        assert blocked.is_error
    assert count_executions(PREFIX + "nightly-report") == 0


def test_a_filter_that_names_no_tool_or_leaves_none_stops_the_server_at_start(
    package: Path, aws_env: dict[str, str]
) -> None:
    misspelt = refused_at_start(package, aws_env, "--tool", "refund_ordr")
    assert (
        "--tool refund_ordr: the package has no such tool (did you mean refund_order?)" in misspelt
    )
    assert "Traceback" not in misspelt
    empty = refused_at_start(package, aws_env, "--read-only", "--tag", "team=logistics")
    assert "leaves none of the package's 6 workflow tools" in empty
    bad_surface = refused_at_start(package, aws_env | {"SFN_MCP_SURFACE": "some"})
    assert "SFN_MCP_SURFACE='some'" in bad_surface
    bad_page = refused_at_start(package, aws_env, "--page-size", "-3")
    assert "--page-size" in bad_page
    # a variable's mistake names the variable; an unknown switch value never offers everything
    assert "SFN_MCP_TOOLS: nope: the package has no such tool" in refused_at_start(
        package, aws_env | {"SFN_MCP_TOOLS": "nope"}
    )
    assert "SFN_MCP_PAGE_SIZE: 'abc'" in refused_at_start(
        package, aws_env | {"SFN_MCP_PAGE_SIZE": "abc"}
    )
    assert "SFN_MCP_READ_ONLY='y'" in refused_at_start(
        package, aws_env | {"SFN_MCP_READ_ONLY": "y"}
    )


# --- pages --------------------------------------------------------------------------------------


async def test_tools_list_pages_walk_every_tool_once_and_a_foreign_cursor_is_refused(
    package: Path, aws_env: dict[str, str]
) -> None:
    async with connected(package, aws_env, "--surface", "all", "--page-size", "2") as client:
        seen: list[str] = []
        pages = 0
        cursor: str | None = None
        while True:
            page = await client.list_tools(cursor=cursor, cache_mode="bypass")
            pages += 1
            assert len(page.tools) <= 2
            seen += [tool.name for tool in page.tools]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert pages == 4
        assert seen == [*sorted(WORKFLOWS), "get_execution"]
        for forged in ("not-a-cursor", base64.urlsafe_b64encode(b"[" * 100_000).decode()):
            with pytest.raises(MCPError) as refused:
                await client.list_tools(cursor=forged, cache_mode="bypass")
            assert refused.value.error.code == -32602
    # two search servers list the same four names, not for the same workflows
    search = ("--page-size", "1")
    async with connected(package, aws_env, *search, "--read-only") as other:
        search_cursor = (await other.list_tools(cache_mode="bypass")).next_cursor
    async with connected(package, aws_env, *search) as client:
        with pytest.raises(MCPError):
            await client.list_tools(cursor=search_cursor, cache_mode="bypass")
    async with connected(
        package, aws_env, "--surface", "all", "--page-size", "2", "--read-only"
    ) as other:
        first = await other.list_tools(cache_mode="bypass")
        assert first.next_cursor is not None
    async with connected(package, aws_env, "--surface", "all", "--page-size", "2") as client:
        with pytest.raises(MCPError) as refused:  # a cursor of another listing
            await client.list_tools(cursor=first.next_cursor, cache_mode="bypass")
        assert refused.value.error.code == -32602


# --- a client nobody here wrote -----------------------------------------------------------------


def test_mcpc_finds_describes_and_runs_a_workflow_and_a_filter_holds(
    package: Path, aws_env: dict[str, str], tmp_path: Path
) -> None:
    env = {k: v for k, v in aws_env.items() if k.startswith("AWS_")}
    servers = {
        "search": {"command": sys.executable, "args": ["-m", PACKAGE]},
        "payments": {
            "command": sys.executable,
            "args": ["-m", PACKAGE, "--surface", "all", "--tag", "team=payments"],
        },
    }
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    key: {**server, "env": {**env, "PYTHONPATH": str(package)}}
                    for key, server in servers.items()
                }
            }
        )
    )
    home = tmp_path / "home"
    home.mkdir()
    for key in servers:
        code, _, err = mcpc(home, "connect", f"{config}:{key}", f"@{key}")
        assert code == 0, err
    try:
        code, listed, err = mcpc(home, "@search", "tools-list")
        assert code == 0, err
        tools = listed["tools"] if isinstance(listed, dict) else listed
        assert [tool["name"] for tool in tools] == SEARCH_TOOLS
        code, found, err = mcpc(home, "@search", "tools-call", "find_workflows", 'query:="ship"')
        assert code == 0, err
        assert found["structuredContent"]["workflows"][0]["name"] == "ship_parcel"
        code, described, err = mcpc(
            home, "@search", "tools-call", "describe_workflow", 'name:="ship_parcel"'
        )
        assert code == 0, err
        assert described["structuredContent"]["annotations"]["readOnlyHint"] is False
        code, ran, err = mcpc(
            home, "@search", "tools-call", "run_workflow",
            'name:="ship_parcel"', 'arguments:={"parcel": "P-9"}',
        )  # fmt: skip
        assert code == 0, err
        assert ran["structuredContent"]["status"] == "SUCCEEDED"
        assert ran["structuredContent"]["output"] == {"given": {"parcel": "P-9"}}
        # run_workflow of a STANDARD workflow may become a task, as its own tool may
        code, created, err = mcpc(
            home, "@search", "tools-call", "run_workflow",
            'name:="slow_echo"', 'arguments:={"n": 3}', "--detach",
        )  # fmt: skip
        assert code == 0, err
        code, result, err = mcpc(home, "@search", "tasks-result", created["taskId"])
        assert code == 0, err
        assert result["structuredContent"]["output"] == {"given": {"n": 3}}
        # an EXPRESS workflow answers in the call: asked as a task, it is refused, not misanswered
        code, _, err = mcpc(
            home, "@search", "tools-call", "run_workflow",
            'name:="order_status"', "arguments:={}", "--detach",
        )  # fmt: skip
        assert code != 0 and "cannot run as a task" in err, err

        code, listed, err = mcpc(home, "@payments", "tools-list")
        assert code == 0, err
        tools = listed["tools"] if isinstance(listed, dict) else listed
        assert [tool["name"] for tool in tools] == [
            "list_orders", "order_status", "refund_order", "get_execution"
        ]  # fmt: skip
    finally:
        for key in servers:
            mcpc(home, "close", f"@{key}")
