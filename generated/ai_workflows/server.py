"""The MCP server ai-workflows: serves the tools defined in ``tools.py``."""

from __future__ import annotations

from ._runtime.server import build_server
from ._runtime.transport import main as run
from .tools import TOOLS

SERVER_NAME = "ai-workflows"
SERVER_VERSION = "0.1.0"
INSTRUCTIONS = (
    "Each tool runs one AWS Step Functions workflow with typed input and returns the execution's "
    "status, output, error and cause. STANDARD workflows that outlast the tool's wait return "
    "status RUNNING with the execution ARN."
)

server = build_server(SERVER_NAME, version=SERVER_VERSION, instructions=INSTRUCTIONS, tools=TOOLS)


def main(argv: list[str] | None = None) -> None:
    run(server, argv, prog="python -m ai_workflows")
