"""sfn-mcp: compile Step Functions workflows into a typed MCP server.

The compiler's stages, in order, each in the folder of its name: ``settings`` → ``read`` →
``models`` → ``ir`` → ``render`` → ``surface`` → ``write`` (``pipeline`` runs them). The commands
are in ``cli``, surface review (check, diff) in ``review``, client configuration in ``clients``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sfn-mcp")  # defined once, in pyproject.toml
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
