"""What a package serves, asked of the package itself: it is imported in a child Python and its
``tools/list`` and Workflow constants are read, so the manifest cannot drift from the code."""

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

from sfn_mcp.diagnostics import CompileError
from sfn_mcp_runtime.contract import LISTING, LISTING_FORMAT

__all__ = [
    "LISTING",
    "PackageImportError",
    "Served",
    "committed_listing",
    "listing_problems",
    "listing_text",
    "served_listing",
]

# Runs in a child interpreter with the package on sys.path: what it serves, and how each
# workflow tool runs (the Workflow constants in tools.py).
_LISTING_SCRIPT = """
import importlib, json, sys
tools = importlib.import_module(sys.argv[1] + ".tools")
runtime = importlib.import_module(sys.argv[1] + "._runtime.server")
def runs(w):
    standard = w.type == "STANDARD"
    return {"arn": w.arn, "type": w.type, "stopOnCancel": w.stop_on_cancel,
            "maxWaitSeconds": w.max_wait_seconds if standard else None,
            "targetArn": w.target_arn, "definitionSha256": w.definition_sha256}
workflows = {t.name: runs(t.workflow) for t in tools.TOOLS}
json.dump({"tools": runtime.tools_list(tools.TOOLS), "workflows": workflows}, sys.stdout)
"""


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


def listing_text(served: Served) -> str:
    """``listing.json``: what ``tools/list`` answers, which the server sends as it is instead of
    building every tool at start. One tool a line (a review sees which changed), ASCII only
    (JSON escapes), keys in the order the server sends them."""
    lines = [json.dumps(tool, ensure_ascii=True, separators=(",", ":")) for tool in served.tools]
    body = ",\n".join(lines)
    return f'{{"listingFormat":{LISTING_FORMAT},"tools":[\n{body}\n]}}\n'


def listing_problems(package_dir: Path, served: Served) -> list[str]:
    """How the package's ``listing.json`` differs from its code's ``tools/list`` (none: equal)."""
    path = package_dir / LISTING
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{LISTING} cannot be read ({type(exc).__name__}); the server lists from it"]
    if text == listing_text(served):
        return []
    try:
        recorded = json.loads(text).get("tools")
        by_name = {str(t.get("name")): t for t in recorded}
    except (ValueError, AttributeError, TypeError):
        return [f"{LISTING} is not a listing the server can read"]
    problems = []
    code = {str(tool["name"]): tool for tool in served.tools}
    for name in sorted(code.keys() | by_name.keys()):
        if name not in by_name:
            problems.append(f"{LISTING} does not list the tool {name!r} the code serves")
        elif name not in code:
            problems.append(f"{LISTING} lists the tool {name!r}, which the code does not have")
        elif by_name[name] != code[name]:
            keys = sorted(
                k
                for k in code[name].keys() | by_name[name].keys()
                if code[name].get(k) != by_name[name].get(k)
            )
            problems.append(f"{LISTING} differs from the code for {name!r} ({', '.join(keys)})")
    return problems or [f"{LISTING} is not laid out as sfn-mcp writes it (order or spacing)"]
