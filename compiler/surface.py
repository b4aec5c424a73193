"""The surface manifest: ``surface.json``, the reviewable contract of a generated server.

For each tool it records what a client sees (name, title, description, annotations, input and
output schema, exactly as ``tools/list`` answers) and where the tool comes from (state machine ARN
and type, a SHA-256 of the ASL definition, input/output schema ARN and version). The client-facing
part is not re-derived here: the rendered package is imported in a child Python and asked for its
``tools/list``, so the manifest cannot drift from what the server publishes.

The file is canonical: tools sorted by name, keys in a fixed order, no timestamps, two-space
indent, one tool after another.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CompileError
from .ir import Package, Tool
from .pull import SchemaSource

MANIFEST = "surface.json"
FORMAT = 1
LISTED_KEYS = ("title", "description", "annotations", "inputSchema", "outputSchema")

# Runs in a child interpreter with the package on sys.path: what it serves, and how each
# workflow tool runs (the Workflow constants in tools.py).
_LISTING_SCRIPT = """
import importlib, json, sys
tools = importlib.import_module(sys.argv[1] + ".tools")
runtime = importlib.import_module(sys.argv[1] + "._runtime")
def runs(w):
    standard = w.type == "STANDARD"
    return {"arn": w.arn, "type": w.type, "stopOnCancel": w.stop_on_cancel,
            "maxWaitSeconds": w.max_wait_seconds if standard else None}
workflows = {t.name: runs(t.workflow) for t in tools.TOOLS}
json.dump({"tools": runtime.tools_list(tools.TOOLS), "workflows": workflows}, sys.stdout)
"""
RUN_KEYS = ("arn", "type", "maxWaitSeconds", "stopOnCancel")


def served_listing(files: Mapping[str, str], package: str) -> Served:
    """``tools/list`` of the package made of ``files``, from the package itself."""
    with tempfile.TemporaryDirectory(prefix="sfn-mcp-surface-") as scratch:
        root = Path(scratch) / package
        for path, text in files.items():
            if path.endswith(".py"):
                (root / path).parent.mkdir(parents=True, exist_ok=True)
                (root / path).write_text(text, encoding="utf-8", newline="\n")
        return _listing_of(Path(scratch), package)


@dataclass(frozen=True)
class Served:
    tools: list[dict[str, Any]]  # what tools/list answers
    workflows: dict[str, dict[str, Any]]  # per workflow tool: RUN_KEYS


class PackageImportError(CompileError):
    """The package does not import (for a committed one: edited by hand, or half-written)."""


def _listing_of(folder: Path, package: str) -> Served:
    env = {**os.environ, "PYTHONPATH": str(folder), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", _LISTING_SCRIPT, package],
        cwd=folder,
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise PackageImportError(f"the package {package!r} does not import: {last}")
    data = json.loads(result.stdout)
    return Served(tools=data["tools"], workflows=data["workflows"])


def committed_listing(package_dir: Path) -> Served:
    """``tools/list`` of a package on disk (for the offline check)."""
    return _listing_of(package_dir.parent, package_dir.name)


def _source(schema: SchemaSource | None) -> dict[str, str] | None:
    return {"arn": schema.ref.arn, "version": schema.version} if schema else None


def _entry(listed: Mapping[str, Any], tool: Tool | None, runs: Mapping[str, Any]) -> dict[str, Any]:
    machine = (
        {
            "name": tool.machine_name,
            **{key: runs.get(key) for key in RUN_KEYS},
            "definitionSha256": tool.definition_sha256,
        }
        if tool
        else None
    )
    return {
        "name": listed["name"],
        "title": listed.get("title"),
        "description": listed.get("description"),
        "stateMachine": machine,
        "inputSchemaSource": _source(tool.schema) if tool else None,
        "outputSchemaSource": _source(tool.output_schema) if tool else None,
        "annotations": listed.get("annotations"),
        "inputSchema": listed.get("inputSchema"),
        "outputSchema": listed.get("outputSchema"),
    }


def manifest(package: Package, files: Mapping[str, str]) -> str:
    """The text of ``surface.json`` for a rendered package."""
    try:
        served = served_listing(files, package.name)
    except PackageImportError as exc:
        raise CompileError(
            f"internal error: {exc}",
            hint="rerun with SFN_MCP_DEBUG=1 and report it with the schema that produced it",
        ) from exc
    by_name = {tool.name: tool for tool in package.tools}
    document = {
        "surfaceFormat": FORMAT,
        "server": package.server_name,
        "package": package.name,
        "tools": [
            _entry(listed, by_name.get(listed["name"]), served.workflows.get(listed["name"], {}))
            for listed in sorted(served.tools, key=lambda t: str(t["name"]))
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
