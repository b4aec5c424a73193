"""``python -m sfn_mcp``: the same command line as ``sfn-mcp``."""

from sfn_mcp.cli import main

main(prog_name="sfn-mcp")
