"""Stage 5, render: the IR → the package's files (one Jinja template per file, formatted by ruff),
plus the copy of the runtime every generated server ships."""

from sfn_mcp.render.render import py_string, render, runtime_files

__all__ = ["py_string", "render", "runtime_files"]
