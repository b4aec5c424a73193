"""sfn-mcp: compile Step Functions workflows into a typed MCP server."""

__version__ = "0.1.0"
