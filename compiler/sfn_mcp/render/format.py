"""Formatting of the rendered Python: imports sorted and code formatted by the pinned ruff, so the
output reads as a careful person would write it and is byte-stable."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from sfn_mcp.diagnostics import CompileError


def format_python(files: dict[str, str]) -> dict[str, str]:
    """Sort imports and format every Python file with ruff: two ruff runs over a scratch copy."""
    from ruff.__main__ import find_ruff_bin

    python = sorted(path for path in files if path.endswith(".py"))
    with tempfile.TemporaryDirectory(prefix="sfn-mcp-format-") as scratch:
        root = Path(scratch)
        for path in python:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(files[path], encoding="utf-8", newline="\n")
        for args in (["check", "--fix", "--select", "I", "--exit-zero"], ["format"]):
            result = subprocess.run(
                [find_ruff_bin(), *args, "--isolated", "--line-length", "100", "--quiet", "."],
                cwd=root,
                capture_output=True,
                encoding="utf-8",
                check=False,
            )
            if result.returncode != 0:
                raise CompileError(
                    f"internal error: ruff could not format the generated code: "
                    f"{(result.stderr or result.stdout).strip()}",
                    hint="please report this with the schema that produced it",
                )
        formatted = dict(files)
        for path in python:
            formatted[path] = (root / path).read_text(encoding="utf-8")
    return formatted
