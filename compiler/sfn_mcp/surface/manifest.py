"""Stage 6, surface: the manifest ``surface.json``, the reviewable contract of a generated server.

For each tool it records what a client sees (name, title, description, annotations, input and
output schema, exactly as ``tools/list`` answers) and where the tool comes from (state machine ARN
and type, a SHA-256 of the ASL definition, input/output schema ARN and version); for the whole
server, the IAM permissions of ``iam-policy.json`` (action → resources). The client-facing
part is not re-derived here: the rendered package is imported in a child Python and asked for its
``tools/list``, so the manifest cannot drift from what the server publishes.

The file is canonical: tools sorted by name, keys in a fixed order, no timestamps, two-space
indent, one tool after another.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.ir import Package, Tool
from sfn_mcp.read.records import INFERRED, SchemaSource
from sfn_mcp.render.policy import grants, iam_policy
from sfn_mcp.surface.listing import LISTING, PackageImportError, listing_text, served_listing
from sfn_mcp.text import readable_json
from sfn_mcp_runtime.contract import RUN_KEYS

MANIFEST = "surface.json"
FORMAT = 1
LISTED_KEYS = ("title", "description", "annotations", "inputSchema", "outputSchema")


def _source(schema: SchemaSource | None) -> dict[str, str] | None:
    """Where a tool's schema came from: the registry's ARN and version, or the definition."""
    if schema is None:
        return None
    if schema.ref.registry == INFERRED:
        return {"inferredFrom": "definition", "sha256": schema.version}
    if schema.ref.arn.startswith("file:"):
        return {"file": schema.ref.name, "sha256": schema.version}
    return {"arn": schema.ref.arn, "version": schema.version}


def _entry(listed: Mapping[str, Any], tool: Tool | None, runs: Mapping[str, Any]) -> dict[str, Any]:
    machine: dict[str, Any] | None = (
        {
            "name": tool.machine_name,
            **{key: runs.get(key) for key in RUN_KEYS},
            **({"target": tool.target, "versionArn": tool.version_arn} if tool.target else {}),
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


def manifest(package: Package, files: dict[str, str]) -> str:
    """The text of ``surface.json`` for a rendered package. It also adds ``listing.json`` (the
    same ``tools/list``, which the server serves as it is) to ``files``: both come from one
    import of the package."""
    try:
        served = served_listing(files, package.name)
    except PackageImportError as exc:
        raise CompileError(
            f"internal error: {exc}",
            hint="rerun with SFN_MCP_DEBUG=1 and report it with the schema that produced it",
        ) from exc
    files[LISTING] = listing_text(served)
    by_name = {tool.name: tool for tool in package.tools}
    document = {
        "surfaceFormat": FORMAT,
        "server": package.server_name,
        "package": package.name,
        "clientProfile": package.client_profile,
        "surface": package.surface,
        "permissions": grants(iam_policy(package)),
        "tools": [
            _entry(listed, by_name.get(listed["name"]), served.workflows.get(listed["name"], {}))
            for listed in sorted(served.tools, key=lambda t: str(t["name"]))
        ],
    }
    return readable_json(document) + "\n"


def previous_names(path: Path) -> dict[str, str]:
    """State machine ARN → tool name in a committed ``surface.json`` (none if it is missing or
    unreadable: names then start afresh)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return {
            str(tool["stateMachine"]["arn"]): str(tool["name"])
            for tool in document.get("tools", [])
            if isinstance(tool, dict) and isinstance(tool.get("stateMachine"), dict)
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
