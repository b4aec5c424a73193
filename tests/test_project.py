"""The generated package is a Python project: its version moves with the tool surface (major
for a breaking change, minor for an additive one, patch for code only), and it installs into a
fresh virtualenv, where its console script serves the tools with no sfn-mcp installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
import venv
from dataclasses import replace
from pathlib import Path

import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from sfn_mcp.pipeline import compile_records
from sfn_mcp.review.version import versioned_files
from sfn_mcp.settings import Settings
from sfn_mcp.write import write_package
from tests.sources import SHIPMENT, example_machines, machine, schema

ROOT = Path(__file__).parents[1]


def released(tmp_path: Path, machines: list) -> tuple[str, dict]:
    """Generate into tmp_path (over what is there) and return the version and surface."""
    settings = Settings(prefix="shop-", name="shop_tools", output=tmp_path)
    files = versioned_files(compile_records(settings, machines), tmp_path / "shop_tools")
    write_package(files, tmp_path, "shop_tools")
    project = tomllib.loads((tmp_path / "shop_tools" / "pyproject.toml").read_text())
    surface = json.loads((tmp_path / "shop_tools" / "surface.json").read_text())
    assert surface["version"] == project["project"]["version"]
    return project["project"]["version"], surface


def test_the_version_moves_with_the_tool_surface(tmp_path: Path) -> None:
    machines = example_machines()
    assert released(tmp_path, machines)[0] == "1.0.0"
    assert released(tmp_path, machines)[0] == "1.0.0"  # nothing changed, nothing moves
    added = [*machines, machine("shop-refund")]
    assert released(tmp_path, added)[0] == "1.1.0"  # a tool more: additive
    narrowed = dict(SHIPMENT, required=["shipmentId", "weight"])
    ship = next(m for m in added if m.name == "shop-ship")
    stricter = replace(
        ship, schema=schema("Shipment", narrowed, kind="JSONSchemaDraft4", version="4")
    )
    breaking = [stricter if m.name == "shop-ship" else m for m in added]
    assert released(tmp_path, breaking)[0] == "2.0.0"  # a required field more: breaking
    # only generated code changes (here: an older runtime file), not the surface: a patch
    runtime = tmp_path / "shop_tools" / "_runtime" / "contract.py"
    runtime.write_text(runtime.read_text() + "\n# older\n")
    assert released(tmp_path, breaking)[0] == "2.0.1"


@pytest.mark.integration
def test_the_package_installs_and_its_script_serves_the_tools(tmp_path: Path) -> None:
    """pip install of the committed example into a fresh virtualenv (dependencies from the
    index), then its console script over stdio: serverInfo names the package and its version."""
    package = tmp_path / "ai_workflows"
    shutil.copytree(
        ROOT / "generated" / "ai_workflows", package, ignore=shutil.ignore_patterns("__pycache__")
    )
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(package),
        ],
        check=True,
        timeout=600,
    )
    listed = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('sfn_mcp'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert listed.stdout.strip() == "None"  # the compiler is not there
    assert not list(package.glob("*.egg-info")) and not (package / "build").exists()
    version = tomllib.loads((package / "pyproject.toml").read_text())["project"]["version"]
    script = env_dir / "bin" / "ai-workflows"
    help_text = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    assert help_text.stdout.startswith("usage: ai-workflows")

    async def tools() -> tuple[list[str], str, str]:
        env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1",
               "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # fmt: skip
        params = StdioServerParameters(command=str(script), args=[], cwd=str(tmp_path), env=env)
        async with Client(params, mode="legacy") as client:
            info = client.server_info
            assert info is not None
            names = [tool.name for tool in (await client.list_tools()).tools]
            return names, info.name, info.version

    import anyio

    names, name, served = anyio.run(tools)
    assert set(names) >= {"order_processing", "daily_etl", "support_triage", "get_execution"}
    assert (name, served) == ("ai-workflows", version)
