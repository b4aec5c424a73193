"""Stage 5, render: the IR → the package's files (one Jinja template per file, formatted by ruff),
plus the copy of the runtime every generated server ships."""

from sfn_mcp.render.render import PROJECT_FILE, project_file, py_string, render, runtime_files

__all__ = ["PROJECT_FILE", "project_file", "py_string", "render", "runtime_files"]
