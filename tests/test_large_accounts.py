"""Large accounts (issue 15): the server starts without importing any model, serves tools/list
from listing.json, builds a tool on its first call, and check --offline keeps listing.json equal
to the code. No AWS: every call here is refused before one is made."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from sfn_mcp.review.check import check_offline
from tests.helpers import text

ROOT = Path(__file__).parents[1]
GENERATED = ROOT / "generated"

# Runs the generated server over stdio; when it exits, names the model modules it imported.
LAUNCH = """
import atexit, runpy, sys
path = sys.argv[1]
def report():
    loaded = sorted(m for m in sys.modules if m.startswith("ai_workflows.models."))
    with open(path, "w") as out:
        out.write(",".join(loaded))
atexit.register(report)
sys.argv = sys.argv[:1]
runpy.run_module("ai_workflows", run_name="__main__")
"""

# The same package served the way it was before: every tool built at start.
EAGER = """
import sys
from ai_workflows.server import INSTRUCTIONS, SERVER_NAME, SERVER_VERSION
from ai_workflows.tools import TOOLS
from ai_workflows._runtime.server import build_server
from ai_workflows._runtime.transport import main
main(build_server(SERVER_NAME, version=SERVER_VERSION, instructions=INSTRUCTIONS, tools=TOOLS))
"""


def _env() -> dict[str, str]:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    # nothing here may reach AWS: a call that tried would fail against this address
    return env | {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_DEFAULT_REGION": "us-east-1"}


async def _session_run(
    args: list[str], calls: list[tuple[str, dict[str, Any]]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Start the server (``python`` + ``args``), list its tools, make ``calls``: the listing
    as JSON and each call's text."""
    params = StdioServerParameters(
        command=sys.executable, args=args, cwd=str(GENERATED), env=_env()
    )
    async with (
        stdio_client(params) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        listed = (await session.list_tools()).tools
        texts = []
        for name, arguments in calls:
            result = await session.call_tool(name, arguments)
            assert result.is_error
            texts.append(text(result))
    dumped = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed]
    return dumped, texts


BAD_CALLS = [
    ("support_triage", {"subject": "x", "unknownField": 1, "customerTier": 7}),
    ("daily_etl", {"runDate": "not a date", "idempotency_key": "no spaces allowed"}),
    ("no_such_tool", {}),
]


@pytest.mark.anyio
async def test_start_and_listing_import_no_model_and_a_call_loads_only_its_own(
    tmp_path: Path,
) -> None:
    report = tmp_path / "loaded.txt"
    await _session_run(["-c", LAUNCH, str(report)], [])
    assert report.read_text() == ""  # initialize and tools/list: no model module
    await _session_run(["-c", LAUNCH, str(report)], BAD_CALLS[:1])
    assert report.read_text() == "ai_workflows.models.support_triage_input"


@pytest.mark.anyio
async def test_lazy_server_lists_and_refuses_exactly_like_the_eager_one() -> None:
    lazy = await _session_run(["-m", "ai_workflows"], BAD_CALLS)
    eager = await _session_run(["-c", EAGER], BAD_CALLS)
    assert lazy == eager
    listing = json.loads((GENERATED / "ai_workflows" / "listing.json").read_text())
    assert lazy[0] == listing["tools"]
    assert "Invalid arguments for support_triage" in lazy[1][0]


def test_a_missing_listing_falls_back_to_building_the_tools(tmp_path: Path) -> None:
    package = tmp_path / "ai_workflows"
    shutil.copytree(GENERATED / "ai_workflows", package)
    (package / "listing.json").unlink()
    done = subprocess.run(
        [sys.executable, "-c", "import ai_workflows.server as s; print(s.CATALOG.listed())"],
        cwd=tmp_path,
        env=_env() | {"PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "None"
    assert "listing.json unreadable" in done.stderr


def _offline(tmp_path: Path, edit: Any) -> str:
    package = tmp_path / "ai_workflows"
    shutil.copytree(GENERATED / "ai_workflows", package)
    path = package / "listing.json"
    path.write_text(edit(path.read_text()))
    result = check_offline(package)
    assert not result.up_to_date
    return result.report


def test_check_offline_fails_on_a_hand_edited_listing(tmp_path: Path) -> None:
    def edit(text: str) -> str:
        data = json.loads(text)
        data["tools"][0]["description"] = "Edited by hand."
        return json.dumps(data)

    out = _offline(tmp_path, edit)
    assert "listing.json differs from the code for 'daily_etl' (description)" in out


def test_check_offline_fails_on_a_listing_without_a_tool(tmp_path: Path) -> None:
    def edit(text: str) -> str:
        data = json.loads(text)
        data["tools"] = [t for t in data["tools"] if t["name"] != "order_processing"]
        return json.dumps(data)

    out = _offline(tmp_path, edit)
    assert "listing.json does not list the tool 'order_processing' the code serves" in out


def test_check_offline_fails_on_a_relaid_listing(tmp_path: Path) -> None:
    out = _offline(tmp_path, lambda text: json.dumps(json.loads(text), indent=1))
    assert "listing.json is not laid out as sfn-mcp writes it" in out


def test_the_committed_listing_is_what_the_code_lists() -> None:
    result = check_offline(GENERATED / "ai_workflows")
    assert result.up_to_date, result.report
