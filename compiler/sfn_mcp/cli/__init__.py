"""The ``sfn-mcp`` command line: one module per command. This room is the only one that imports
click and the only one that prints."""

from __future__ import annotations

import click

from sfn_mcp import __version__
from sfn_mcp.cli.bundle import bundle
from sfn_mcp.cli.check import check
from sfn_mcp.cli.configure import configure
from sfn_mcp.cli.diff import diff
from sfn_mcp.cli.generate import generate
from sfn_mcp.cli.init import init


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sfn-mcp")
def main() -> None:
    """Compile AWS Step Functions workflows into a committed, typed MCP server."""


for command in (init, generate, check, diff, configure, bundle):
    main.add_command(command)
