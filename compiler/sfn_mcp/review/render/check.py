"""The output formats of ``sfn-mcp check``: ``text`` (the report the check wrote), ``json`` (stable,
for machines), ``markdown`` (a pull-request comment or a job summary, like ``diff --format
markdown``) and ``github`` (GitHub Actions workflow commands: an annotation per finding and a
summary line). All four say the same: the headline, the surface changes, the files that differ,
the problems and what to do. ``CHECK_RENDERERS`` maps each ``--format`` name to its renderer.

The JSON document (``CHECK_JSON_FORMAT`` is its version; fields are only ever added)::

    {"checkFormat": 1, "check": "source" | "offline" | "against-account",
     "upToDate": bool, "target": "<the package folder>", "headline": "<the first line of text>",
     "old": "<label>" | null, "new": "<label>" | null, "notes": [...],
     "summary": {"breaking", "nonBreaking", "total", "tools"},
     "changes": [<diff --format json rows>],
     "files": [{"path": "<in the package>", "status": "changed" | "missing" | "extra"}],
     "problems": [{"tool": str | null, "file": str | null, "message": str}],
     "hint": str | null}
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.review.check import CheckResult
from sfn_mcp.review.render.markdown import render_markdown
from sfn_mcp.review.render.summary import notes, summarize, summary_line
from sfn_mcp.review.surface import change_order
from sfn_mcp.surface import MANIFEST

CHECK_JSON_FORMAT: Final = 1
DIFF_MARKER: Final = "<!-- sfn-mcp diff -->\n"
CHECK_MARKER: Final = "<!-- sfn-mcp check -->"


def render_check_text(result: CheckResult, *, root: Path | None = None) -> str:
    """The report the check wrote (today's output, unchanged)."""
    return result.report


def render_check_json(result: CheckResult, *, root: Path | None = None) -> str:
    """Stable, for machines: see the module docstring for the fields."""
    ordered = sorted(result.changes, key=change_order)
    document: dict[str, Any] = {
        "checkFormat": CHECK_JSON_FORMAT,
        "check": result.kind,
        "upToDate": result.up_to_date,
        "target": None if result.target is None else str(result.target),
        "headline": result.headline,
        "old": None if result.old is None else result.old.label,
        "new": None if result.new is None else result.new.label,
        "notes": notes([result.old, result.new]),
        "summary": summarize(ordered),
        "changes": [change.as_dict() for change in ordered],
        "files": [difference.as_dict() for difference in result.files],
        "problems": [problem.as_dict() for problem in result.problems],
        "hint": result.hint,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _md(text: str) -> str:
    """Plain text in markdown: no HTML, the characters that format escaped, one line."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\`*_[]|~#":
        escaped = escaped.replace(char, f"\\{char}")
    return " ".join(escaped.split())


def _code(text: str) -> str:
    text = " ".join(text.split())
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render_check_markdown(result: CheckResult, *, root: Path | None = None) -> str:
    """For a pull-request comment or ``$GITHUB_STEP_SUMMARY``: the headline, the surface diff
    exactly as ``diff --format markdown`` renders it, then the files, the problems and the fix."""
    icon = "✅" if result.up_to_date else "❌"
    base = Path.cwd() if root is None else root
    headline = _md(result.headline)
    if result.target is not None and result.headline.startswith(str(result.target)):
        rest = result.headline.removeprefix(str(result.target))
        space = " " if rest[:1].isspace() else ""
        headline = _code(_relative(result.target, base)) + space + _md(rest)
    lines = [CHECK_MARKER, f"## {icon} sfn-mcp check: {headline}", ""]
    if result.changes:  # the diff's own markdown, its headings one level down
        table = render_markdown(result.changes, old=result.old, new=result.new)
        lines += [
            f"#{line}" if line.startswith("#") else line
            for line in table.removeprefix(DIFF_MARKER).rstrip("\n").split("\n")
        ]
        lines.append("")
    elif result.kind == "source" and not result.up_to_date:
        lines += ["The tool surface is the same; only generated code differs.", ""]
    if result.files:
        lines += ["### Files that differ", "", "| File | |", "|---|---|"]
        lines += [f"| {_code(f.path)} | {f.status} |" for f in result.files]
        lines.append("")
    if result.problems:
        lines += ["### Problems", ""]
        lines += [f"- {_md(problem.render())}" for problem in result.problems]
        lines.append("")
    if result.hint:  # sfn-mcp's own words, `commands` and all: only HTML is escaped
        hint = result.hint.replace("&", "&amp;").replace("<", "&lt;")
        lines += [f"**To fix:** {hint}.", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(level: str, message: str, *, title: str, file: Path | None, root: Path) -> str:
    properties = []
    if file is not None:
        properties.append(f"file={_escape_property(_relative(file, root))}")
    properties.append(f"title={_escape_property(title)}")
    return f"::{level} {','.join(properties)}::{_escape_data(message)}"


def _relative(path: Path, root: Path) -> str:
    """Annotations name files relative to the workspace (the checkout) GitHub shows them in."""
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:  # another drive
        return path.as_posix()


def render_check_github(result: CheckResult, *, root: Path | None = None) -> str:
    """GitHub Actions workflow commands: ``::error`` per breaking change and per problem,
    ``::warning`` per other change and per file that differs, then a summary line (an
    ``::error`` when the check fails, a ``::notice`` when it passes). Files, and the package in
    the summary, are named relative to ``root`` (the workspace; default the current directory)."""
    base = Path.cwd() if root is None else root
    target = result.target
    manifest = None if target is None else target / MANIFEST
    lines = []
    for change in sorted(result.changes, key=change_order):
        where = f"{change.tool}: " if change.tool else "server: "
        where += f"{change.path}: " if change.path != "tool" else ""
        lines.append(
            _command(
                "error" if change.breaking else "warning",
                f"{where}{' '.join(change.message.split())} [{change.code}]",
                title=f"sfn-mcp check: {change.severity} change ({change.code})",
                file=manifest,
                root=base,
            )
        )
    for difference in result.files:
        lines.append(
            _command(
                "warning",
                f"{difference.status}: {difference.path} is not what `sfn-mcp generate` writes",
                title=f"sfn-mcp check: file {difference.status}",
                file=None if target is None else target / difference.path,
                root=base,
            )
        )
    for problem in result.problems:
        file = None if target is None or problem.file is None else target / problem.file
        lines.append(
            _command("error", problem.render(), title="sfn-mcp check", file=file, root=base)
        )
    headline = result.headline
    if target is not None and headline.startswith(str(target)):
        headline = _relative(target, base) + headline.removeprefix(str(target))
    if result.up_to_date:
        summary = headline
    else:
        parts = [summary_line(result.changes)] if result.changes else []
        if result.files:
            parts.append(f"{len(result.files)} file(s) differ")
        if result.problems:
            parts.append(f"{len(result.problems)} problem(s)")
        summary = headline.rstrip(":.") + (f" ({'; '.join(parts)})." if parts else ".")
        if result.hint:
            summary += f" To fix: {result.hint}."
    level = "notice" if result.up_to_date else "error"
    lines.append(_command(level, summary, title="sfn-mcp check", file=None, root=base))
    return "\n".join(lines) + "\n"


CHECK_RENDERERS: Final[dict[str, Callable[..., str]]] = {
    "text": render_check_text,
    "json": render_check_json,
    "markdown": render_check_markdown,
    "github": render_check_github,
}


@contextlib.contextmanager
def github_error(enabled: bool, echo: Callable[[str], object]) -> Iterator[None]:
    """With ``--format github``, an error that stops the check (exit 2) is also an ``::error``
    annotation (through ``echo``, on stdout); it is then raised on, to be reported as usual."""
    try:
        yield
    except CompileError as exc:
        if enabled:
            message = str(exc) + (f" (hint: {exc.hint})" if exc.hint else "")
            echo(_command("error", message, title="sfn-mcp check", file=None, root=Path.cwd()))
        raise
