"""What the integration tests share: the CLI as a subprocess, a generated server as a stdio
subprocess with an SDK session, and the example machines' role."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TextIO

from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult, TextContent

ROOT = Path(__file__).parents[1]
SFN_MCP = Path(sys.executable).with_name("sfn-mcp")
ROLE = "arn:aws:iam::000000000000:role/ai-workflows-states"


def sfn_mcp(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the sfn-mcp command line from the repository root. ``generate`` and ``check`` read the
    account (the local AWS in ``env``) unless the arguments name a source: the repository's own
    configuration compiles the examples from their template."""
    if args and args[0] in ("generate", "check") and "--source" not in args:
        args = (args[0], "--source", "account", *args[1:])
    return subprocess.run(
        [str(SFN_MCP), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def generate(env: dict[str, str], output: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = sfn_mcp(env, "generate", "-o", str(output), *args)
    assert result.returncode == 0, result.stderr
    return result


@asynccontextmanager
async def server(
    package_dir: Path, env: dict[str, str], name: str = "ai_workflows", errlog: TextIO = sys.stderr
) -> AsyncIterator[ClientSession]:
    """The generated package ``name`` as a stdio subprocess, with an initialized SDK session."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", name], cwd=str(package_dir), env=env
    )
    async with (
        stdio_client(params, errlog=errlog) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text
