"""Formatting of the rendered Python: imports sorted and code formatted by the pinned ruff, so the
output reads as a careful person would write it and is byte-stable.

With the compile cache active (``sfn_mcp.cache.using``), a file whose unformatted text, path and
package layout were formatted before by the same ruff is taken from the cache (one entry per
path: the last formatting of that file); ruff runs over the others only."""

from __future__ import annotations

import json
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path

from sfn_mcp import cache as compile_cache
from sfn_mcp.diagnostics import CompileError

KIND = "format"
RUFF_RUNS = (
    ["check", "--fix", "--select", "I", "--exit-zero"],
    ["format"],
)
RUFF_OPTIONS = ["--isolated", "--line-length", "100", "--quiet"]


def format_python(files: dict[str, str]) -> dict[str, str]:
    """Sort imports and format every Python file with ruff: two ruff runs over a scratch copy."""
    python = sorted(path for path in files if path.endswith(".py"))
    cache = compile_cache.active()
    formatted = dict(files)
    keys: dict[str, str] = {}
    todo = python
    if cache is not None:
        # What decides a file's formatting: ruff and its options, the file's text and path, and
        # the names at the top of the package (isort tells first-party modules by them).
        layout = json.dumps(sorted({path.split("/", 1)[0] for path in python}))
        identity = json.dumps([_ruff_version(), RUFF_RUNS, RUFF_OPTIONS])
        todo = []
        for path in python:
            keys[path] = cache.key(KIND, identity, layout, path, files[path])
            hit = cache.get(KIND, keys[path], _text, slot=cache.slot(KIND, path))
            if hit is not None:
                formatted[path] = hit
            else:
                todo.append(path)
    if todo:
        formatted.update(_ruff(files, python, todo))
        if cache is not None:
            for path in todo:
                cache.put(KIND, keys[path], formatted[path], slot=cache.slot(KIND, path))
    return formatted


def _ruff(files: dict[str, str], python: list[str], todo: list[str]) -> dict[str, str]:
    """``todo`` formatted by ruff, in a scratch copy holding every Python file of the package."""
    from ruff.__main__ import find_ruff_bin

    with tempfile.TemporaryDirectory(prefix="sfn-mcp-format-") as scratch:
        root = Path(scratch)
        for path in python:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(files[path], encoding="utf-8", newline="\n")
        for args in RUFF_RUNS:
            result = subprocess.run(
                [find_ruff_bin(), *args, *RUFF_OPTIONS, "--", *todo],
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
        return {path: (root / path).read_text(encoding="utf-8") for path in todo}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _ruff_version() -> str:
    try:
        return metadata.version("ruff")
    except metadata.PackageNotFoundError:
        return "?"
