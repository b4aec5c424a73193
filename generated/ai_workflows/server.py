"""The MCP server ai-workflows: serves the tools defined in ``tools.py``."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from ._runtime.catalog import Catalog
from ._runtime.contract import LISTING
from ._runtime.selection import Surface
from ._runtime.server import build_server
from ._runtime.transport import main as run
from .tools import ENTRIES

SERVER_NAME = "ai-workflows"
PROJECT = Path(__file__).with_name("pyproject.toml")


def _version() -> str:
    """The package's version (it moves with the tool surface), from its pyproject.toml."""
    try:
        return str(tomllib.loads(PROJECT.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, tomllib.TOMLDecodeError, KeyError):
        return "0.0.0"


SERVER_VERSION = _version()
INSTRUCTIONS = (
    "Each tool runs one AWS Step Functions workflow with typed input and returns the execution's "
    "status, output, error and cause. STANDARD workflows that outlast the tool's wait return "
    "status RUNNING with the execution ARN."
)

# What tools/list offers unless the command line says otherwise (--surface): every workflow as a
# tool of its own ("all"), or find_workflows, describe_workflow and run_workflow ("search").
SURFACE: Surface = "all"

# tools/list is served from listing.json (what the compiler read from this code; `sfn-mcp check
# --offline` keeps them equal); each tool is built on its first call.
CATALOG = Catalog(ENTRIES, listing=Path(__file__).with_name(LISTING))
server = build_server(
    SERVER_NAME, version=SERVER_VERSION, instructions=INSTRUCTIONS, tools=CATALOG, surface=SURFACE
)


def main(argv: list[str] | None = None) -> None:
    launched = Path(sys.argv[0]).name
    prog = SERVER_NAME if launched == SERVER_NAME else "python -m ai_workflows"
    run(server, argv, prog=prog)
