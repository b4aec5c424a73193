"""The text format, for a terminal: the labels and notes, then per tool its changes, breaking
first, and the summary line last."""

from __future__ import annotations

from collections.abc import Sequence

from sfn_mcp.review.render.summary import grouped, notes, summarize, summary_line
from sfn_mcp.review.surface import Change, Surface


def render_text(
    changes: Sequence[Change], *, old: Surface | None = None, new: Surface | None = None
) -> str:
    """For a terminal: the labels and notes, then per tool its changes, breaking first, and the
    summary line last."""
    lines: list[str] = []
    if old is not None and new is not None:
        lines.append(f"Comparing {old.label} -> {new.label}")
    lines.extend(f"note: {note}" for note in notes([old, new]))
    if lines:
        lines.append("")
    for tool, group in grouped(changes):
        counts = summarize(group)
        lines.append(
            f"{tool or '(server)'}: {counts['breaking']} breaking, "
            f"{counts['nonBreaking']} non-breaking"
        )
        for change in group:
            where = f"{change.path}: " if change.path != "tool" else ""
            lines.append(
                f"  {change.severity:<12}  {where}{_one_line(change.message)} [{change.code}]"
            )
        lines.append("")
    lines.append(summary_line(changes))
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())
