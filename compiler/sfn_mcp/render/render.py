"""Stage 5, render: the IR → the files of the package, one Jinja template per file.

Templates only lay text out; every value they print comes from the IR, and every string that came
from AWS goes through ``py_string`` (an escaped Python literal). The result is formatted with ruff,
so the output is what a careful person would have written, and byte-stable.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.ir import Package, Tool
from sfn_mcp.render.format import format_python
from sfn_mcp.text import readable
from sfn_mcp_runtime.contract import (
    RUNTIME_PACKAGE,
    SERVER_REQUIREMENTS,
    TOOLS_IMPORTS,
)

CHUNK = 64  # characters of text per line of a long string literal
_TOKENS = re.compile(r"\S+\s*|\s+")


def templates_dir() -> Path:
    """``sfn_mcp/templates`` in an installed wheel, ``templates/`` in a source checkout."""
    package = Path(__file__).parents[1]
    for candidate in (package / "templates", package.parents[1] / "templates"):
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


def fence(text: str) -> str:
    """Markdown code fence around AWS text, longer than any backtick run inside it, so that no
    HTML, link or heading in a Comment is rendered by a README viewer; control, bidi and
    invisible characters are written as ``\\uXXXX`` escapes (a NUL would make git treat the
    README as binary and hide its diff from review)."""
    text = readable(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    marker = "`" * max(3, longest + 1)
    return f"{marker}text\n{text}\n{marker}"


def runtime_files() -> dict[str, str]:
    """The runtime every generated server ships, as files of its ``_runtime/`` subpackage."""
    import sfn_mcp_runtime

    root = Path(sfn_mcp_runtime.__file__).parent
    return {
        f"{RUNTIME_PACKAGE}/{path.name}": path.read_text(encoding="utf-8")
        for path in sorted(root.glob("*.py"))
    }


def runtime_imports(package: Package) -> list[tuple[str, list[str]]]:
    """What tools.py imports from the runtime, by module: only the names it uses."""
    names = {"Entry", "ExecutionResult", "Hints", "Tool", "Workflow", "all_tools", "run_workflow"}
    for tool in package.tools:
        names.add("event_envelope" if tool.input.mode == "envelope" else "workflow_input")
        if tool.input.mode == "free-form":
            names.add("FreeFormInput")
        if tool.approval_steps:
            names.add("ApprovalStep")
    modules: dict[str, list[str]] = {}
    for name in sorted(names, key=str.lower):
        modules.setdefault(TOOLS_IMPORTS[name], []).append(name)
    return sorted(modules.items())


def payload_expression(tool: Tool) -> str:
    """How a tool turns its validated arguments into the execution input."""
    if tool.input.mode == "envelope":
        return (
            f"event_envelope(arguments, workflow={tool.constant}, "
            f"source={py_string(tool.input.event_source, 8)}, "
            f"detail_type={py_string(tool.input.event_detail_type, 8)})"
        )
    return "workflow_input(arguments)"


def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's), no unreadable character as itself."""
    return readable(json.dumps(text, ensure_ascii=False))


def tuple_expression(keys: tuple[str, ...]) -> str:
    """A tuple of strings as a Python literal (one element keeps its comma)."""
    items = [py_string(key, 12) for key in keys]
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def comment_lines(texts: list[str] | tuple[str, ...], width: int = 84) -> list[str]:
    """Texts as the lines of a ``#`` comment (wrapped, continuation lines indented): nothing
    can end a line early or hide in it."""
    lines = []
    for text in texts:
        safe = readable(text).replace("\n", "\\n").replace("\r", "\\r")
        lines += textwrap.wrap(safe, width, subsequent_indent="  ", break_on_hyphens=False)
    return lines


def hints_expression(tool: Tool) -> str:
    """The tool's annotations, every one spelt out, so a review sees each of them change."""
    h = tool.hints
    return (
        f"Hints(read_only={h.read_only}, destructive={h.destructive}, "
        f"idempotent={h.idempotent}, open_world={h.open_world})"
    )


def hints_summary(tool: Tool) -> str:
    """The annotations in words, for the package README."""
    h = tool.hints
    words = [
        "read-only" if h.read_only else "may modify data",
        "may be destructive" if h.destructive else "not destructive",
        "idempotent" if h.idempotent else "not idempotent",
        "reaches outside systems" if h.open_world else "closed world",
    ]
    if tool.workflow_type == "STANDARD":
        words.append(
            "stops the execution if the call is cancelled"
            if tool.stop_on_cancel
            else "the execution keeps running if the call is cancelled"
        )
    return ", ".join(words)


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
    env.filters["hints"] = hints_expression
    env.filters["comment_lines"] = comment_lines
    env.filters["hints_summary"] = hints_summary
    env.filters["fence"] = fence
    env.filters["pytuple"] = tuple_expression
    env.filters["tomlstr"] = toml_string
    return env


PROJECT_FILE = "pyproject.toml"


def project_file(package: Package, version: str) -> str:
    """``pyproject.toml``: the package as an installable project at ``version``."""
    return (
        _environment()
        .get_template("pyproject.toml.jinja")
        .render(package=package, version=version, requirements=SERVER_REQUIREMENTS)
    )


def render(package: Package) -> dict[str, str]:
    """Every file of the package, by path relative to the package directory."""
    env = _environment()
    context = {
        "package": package,
        "runtime_imports": runtime_imports(package),
        "requirements": SERVER_REQUIREMENTS,
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
            ("requirements.txt", "requirements.txt.jinja"),
        )
    }
    for module in package.modules:
        files[f"models/{module.module}.py"] = module.source
    return {**format_python(files), **runtime_files()}
