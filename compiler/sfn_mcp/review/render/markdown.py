"""The markdown format, for a pull-request comment: a heading with the summary, then one table
per tool (GitHub-safe: no HTML from the surfaces, markdown characters escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sfn_mcp.review.render.summary import grouped, notes, summarize, summary_line
from sfn_mcp.review.rules import BREAKING, NON_BREAKING
from sfn_mcp.review.surface import Change, Surface

MARKERS: Final = {BREAKING: "💥 breaking", NON_BREAKING: "✅ compatible"}
MARKDOWN_SPECIAL: Final = "\\`*_[]|~"


def _md_text(text: str) -> str:
    """Safe inside a GitHub table cell: no HTML, markdown characters escaped, one line."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    for char in MARKDOWN_SPECIAL:
        escaped = escaped.replace(char, f"\\{char}")
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _md_code(text: str) -> str:
    """A code span (pipes still escaped: GitHub splits table cells before code spans)."""
    text = " ".join(text.split()).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render_markdown(
    changes: Sequence[Change], *, old: Surface | None = None, new: Surface | None = None
) -> str:
    """For a pull-request comment: a heading with the summary, then one table per tool."""
    counts = summarize(changes)
    icon = "💥" if counts["breaking"] else "✅"
    lines = ["<!-- sfn-mcp diff -->", f"## {icon} Tool surface: {summary_line(changes)}", ""]
    if old is not None and new is not None:
        lines += [f"Comparing {_md_code(old.label)} → {_md_code(new.label)}.", ""]
    for note in notes([old, new]):
        lines += [f"> **Note:** {_md_text(note)}", ""]
    for tool, group in grouped(changes):
        tool_counts = summarize(group)
        title = _md_code(tool) if tool else "Server"
        lines += [
            f"### {title}: {tool_counts['breaking']} breaking, "
            f"{tool_counts['nonBreaking']} non-breaking",
            "",
            "| | Change | Where | Details |",
            "|---|---|---|---|",
        ]
        for change in group:
            lines.append(
                f"| {MARKERS[change.severity]} | {_md_text(change.code)} | "
                f"{_md_code(change.path)} | {_md_text(change.message)} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
