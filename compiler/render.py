"""Step 5, render: the IR → the files of the package, one Jinja template per file.

Templates only lay text out; every value they print comes from the IR, and every string that came
from AWS goes through ``py_string`` (an escaped Python literal). The result is formatted with ruff,
so the output is what a careful person would have written, and byte-stable.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .errors import CompileError
from .ir import Package, Tool

RUNTIME_SOURCE = Path(__file__).with_name("runtime.py")
CHUNK = 64  # characters of text per line of a long string literal
_TOKENS = re.compile(r"\S+\s*|\s+")


def templates_dir() -> Path:
    """``compiler/templates`` in an installed wheel, ``templates/`` in a source checkout."""
    for candidate in (
        Path(__file__).with_name("templates"),
        Path(__file__).parents[1] / "templates",
    ):
        if candidate.is_dir():
            return candidate
    raise CompileError("the sfn-mcp templates are missing; reinstall sfn-mcp")


def py_string(text: str, indent: int = 4) -> str:
    """A Python expression equal to ``text``: one literal, or a parenthesised run of literals
    split at line ends and spaces so that no line grows past the formatter's limit."""
    chunks: list[str] = []
    for line in text.splitlines(keepends=True):
        current = ""
        for token in _TOKENS.findall(line):
            if current and len(current) + len(token) > CHUNK:
                chunks.append(current)
                current = ""
            current += token
        if current:
            chunks.append(current)
    if len(chunks) <= 1:
        return repr(text)
    pad = " " * (indent + 4)
    body = "\n".join(f"{pad}{chunk!r}" for chunk in chunks)
    return f"(\n{body}\n{' ' * indent})"


def model_imports(package: Package) -> list[tuple[str, str]]:
    return sorted({(t.input.module, t.input.model_class) for t in package.tools if t.input.module})


def runtime_imports(package: Package) -> list[str]:
    names = {"ExecutionResult", "Tool", "Workflow", "run_workflow"}
    for tool in package.tools:
        names.add("event_envelope" if tool.input.mode == "envelope" else "workflow_input")
        if tool.input.mode == "free-form":
            names.add("FreeFormInput")
    return sorted(names, key=str.lower)


def payload_expression(tool: Tool) -> str:
    """How a tool turns its validated arguments into the execution input."""
    if tool.input.mode == "envelope":
        return (
            f"event_envelope(arguments, workflow={tool.constant}, "
            f"source={tool.input.event_source!r}, detail_type={tool.input.event_detail_type!r})"
        )
    return "workflow_input(arguments)"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir()),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["pystr"] = py_string
    env.filters["payload"] = payload_expression
    return env


def format_python(files: dict[str, str]) -> dict[str, str]:
    """Sort imports and format every Python file with ruff (one process per step, not per file)."""
    from ruff.__main__ import find_ruff_bin

    ruff = find_ruff_bin()
    formatted = {}
    for path, text in sorted(files.items()):
        if not path.endswith(".py"):
            formatted[path] = text
            continue
        for args in (
            ["check", "--fix", "--select", "I", "--exit-zero", "--quiet"],
            ["format"],
        ):
            result = subprocess.run(
                [ruff, *args, "--isolated", "--line-length", "100", "--stdin-filename", path, "-"],
                input=text,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise CompileError(
                    f"internal error: ruff could not format generated {path}: "
                    f"{result.stderr.strip()}",
                    hint="please report this with the schema that produced it",
                )
            text = result.stdout
        formatted[path] = text
    return formatted


def render(package: Package) -> dict[str, str]:
    """Every file of the package, by path relative to the package directory."""
    env = _environment()
    context = {
        "package": package,
        "model_imports": model_imports(package),
        "runtime_imports": runtime_imports(package),
    }
    files = {
        path: env.get_template(template).render(**context)
        for path, template in (
            ("__init__.py", "__init__.py.jinja"),
            ("__main__.py", "__main__.py.jinja"),
            ("server.py", "server.py.jinja"),
            ("tools.py", "tools.py.jinja"),
            ("models/__init__.py", "models__init__.py.jinja"),
            ("README.md", "README.md.jinja"),
        )
    }
    files["_runtime.py"] = RUNTIME_SOURCE.read_text(encoding="utf-8")
    for module in package.modules:
        files[f"models/{module.module}.py"] = module.source
    return format_python(files)
