"""Rendering: escaping of AWS strings, lint/type cleanliness, determinism, the served schemas."""

import importlib
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from sfn_mcp.pipeline import compile_records
from sfn_mcp.render import py_string, render, runtime_files
from sfn_mcp.settings import Settings
from sfn_mcp.write import write_package
from tests.sources import SHIPMENT, build_ir, example_machines, machine, schema

ROOT = Path(__file__).parents[1]
VENV_BIN = Path(sys.executable).parent
HOSTILE = [
    'Say """hi""" and leave',
    "{{ config }} {% raw %} ${x}",
    "'); import os; os.system('echo pwned') #",
    "back\\slash \\n not a newline\nreal newline\ttab \x00 nul é 🚀",
    "x" * 300,
]


def build(tmp_path: Path, machines: list[Any], name: str) -> Path:
    compiled = compile_records(Settings(prefix="shop-", name=name), machines)
    write_package(compiled.files, tmp_path, name)
    return tmp_path / name


def import_package(root: Path, name: str) -> Any:
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(f"{name}.tools")
    finally:
        sys.path.remove(str(root))


@pytest.mark.parametrize("text", HOSTILE)
def test_py_string_round_trips_exactly(text: str) -> None:
    assert eval(py_string(text)) == text  # noqa: S307 - the point is that it is a pure literal


def test_hostile_comments_come_out_as_inert_text(tmp_path: Path) -> None:
    machines = [
        machine(f"shop-m{i}", comment=comment, kind="EXPRESS") for i, comment in enumerate(HOSTILE)
    ]
    target = build(tmp_path, machines, "hostile_pkg")
    tools = import_package(tmp_path, "hostile_pkg")
    descriptions = [t.description for t in tools.TOOLS]
    for comment, description in zip(HOSTILE, descriptions, strict=True):
        assert description.startswith(comment.strip())
    tools_py = (target / "tools.py").read_text()
    assert not any(line.lstrip().startswith("import os") for line in tools_py.splitlines())
    readme = (target / "README.md").read_text()
    assert "{{ config }}" in readme  # Jinja did not interpret the AWS text


def test_generated_package_is_clean_under_ruff_and_mypy(tmp_path: Path) -> None:
    build(tmp_path, example_machines() + [machine("shop-odd", comment=HOSTILE[2])], "clean_pkg")
    ruff = subprocess.run(
        [VENV_BIN / "ruff", "check", "--config", ROOT / "pyproject.toml", "clean_pkg"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ruff.returncode == 0, ruff.stdout
    fmt = subprocess.run(
        [VENV_BIN / "ruff", "format", "--check", "--config", ROOT / "pyproject.toml", "clean_pkg"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert fmt.returncode == 0, fmt.stdout
    mypy = subprocess.run(
        [VENV_BIN / "mypy", "--config-file", ROOT / "pyproject.toml", "clean_pkg"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert mypy.returncode == 0, mypy.stdout


def test_output_is_byte_identical_whatever_the_listing_order(tmp_path: Path) -> None:
    machines = example_machines()
    first = render(build_ir(Settings(prefix="shop-", name="p"), machines)[0])
    shuffled = list(machines)
    random.Random(7).shuffle(shuffled)
    shuffled.reverse()
    second = render(build_ir(Settings(prefix="shop-", name="p"), shuffled)[0])
    assert first == second
    stamp = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|timestamp", re.IGNORECASE)
    assert not any(stamp.search(text) for text in first.values())


def test_package_layout(tmp_path: Path) -> None:
    target = build(tmp_path, example_machines(), "layout_pkg")
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "__init__.py",
        "__main__.py",
        *sorted(runtime_files()),
        "iam-policy.json",
        "listing.json",
        "models/__init__.py",
        "models/order_placed.py",
        "models/shipment.py",
        "requirements.txt",
        "server.py",
        "surface.json",
        "tools.py",
    ]
    runtime = ROOT / "compiler" / "sfn_mcp_runtime"
    for path in runtime.glob("*.py"):
        assert (target / "_runtime" / path.name).read_bytes() == path.read_bytes()


@pytest.mark.anyio
async def test_served_input_schemas_are_the_workflow_inputs_without_wrapper(
    tmp_path: Path,
) -> None:
    build(tmp_path, example_machines(), "served_pkg")
    sys.path.insert(0, str(tmp_path))
    try:
        server = importlib.import_module("served_pkg.server").server
    finally:
        sys.path.remove(str(tmp_path))
    async with Client(server) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        order = listed["order_placed"].input_schema
        assert order["required"] == ["orderId", "items", "currency"]
        assert order["properties"]["currency"]["enum"] == ["USD", "EUR"]
        assert "parameters" not in order["properties"]
        assert listed["order_placed"].title == "Order placed"
        assert listed["free"].input_schema["additionalProperties"] is True
        bad = await client.call_tool("order_placed", {"orderId": "nope", "currency": "JPY"})
        assert bad.is_error
        text = bad.content[0].text  # type: ignore[union-attr]
        assert "nothing was started" in text
        assert "orderId" in text and "items" in text and "currency" in text


@pytest.mark.parametrize("only", ["shop-free", "shop-order-placed", "shop-ship"])
def test_a_package_of_one_input_mode_imports_what_it_uses(tmp_path: Path, only: str) -> None:
    machines = [m for m in example_machines() if m.name == only]
    build(tmp_path, machines, f"single_{only[5:].replace('-', '_')}")
    result = subprocess.run(
        [VENV_BIN / "ruff", "check", "--select", "F", "--isolated", "."],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout


def test_same_class_name_in_two_schemas_validates_against_its_own(tmp_path: Path) -> None:
    east = dict(SHIPMENT, title="Order", required=["shipmentId"])
    west = dict(SHIPMENT, title="Order", required=["weight"])
    workflow = dict(SHIPMENT, title="Workflow")  # must not shadow the runtime's Workflow
    machines = [
        machine("shop-east", source=schema("Order", east, kind="JSONSchemaDraft4", registry="e")),
        machine("shop-west", source=schema("Order", west, kind="JSONSchemaDraft4", registry="w")),
        machine("shop-wf", source=schema("Workflow", workflow, kind="JSONSchemaDraft4")),
    ]
    build(tmp_path, machines, "clash_pkg")
    tools = {t.name: t for t in import_package(tmp_path, "clash_pkg").TOOLS}
    assert tools["east"].input_schema["required"] == ["shipmentId"]
    assert tools["west"].input_schema["required"] == ["weight"]
    assert tools["wf"].input_schema["title"] == "Workflow"


def test_readme_shows_aws_text_inside_a_fence(tmp_path: Path) -> None:
    comment = "Nice <img src=x onerror=alert(1)> [link](http://x) ```` and `tick`"
    target = build(tmp_path, [machine("shop-a", comment=comment)], "fence_pkg")
    readme = (target / "README.md").read_text()
    assert f"`````text\n{comment}" in readme


def test_missing_dependencies_give_one_line_saying_what_to_install(tmp_path: Path) -> None:
    build(tmp_path, example_machines(), "deps_pkg")
    result = subprocess.run(  # -S: no site-packages, so mcp and pydantic are missing
        [sys.executable, "-S", "-m", "deps_pkg"], cwd=tmp_path, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "deps_pkg cannot start: No module named" in result.stderr
    requirements = tmp_path / "deps_pkg" / "requirements.txt"
    assert f"{sys.executable} -m pip install -r {requirements}" in result.stderr
    assert "Traceback" not in result.stderr
