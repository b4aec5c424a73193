"""What every output format says besides the changes themselves: the counts, the summary line,
the changes grouped by tool and the surfaces' notes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sfn_mcp.review.surface import Change, Surface, change_order


def summarize(changes: Sequence[Change]) -> dict[str, Any]:
    """Counts for a summary line or a JSON report."""
    breaking = sum(change.breaking for change in changes)
    return {
        "breaking": breaking,
        "nonBreaking": len(changes) - breaking,
        "total": len(changes),
        "tools": sorted({change.tool for change in changes}),
    }


def summary_line(changes: Sequence[Change]) -> str:
    if not changes:
        return "No changes to the tool surface."
    counts = summarize(changes)
    plural = "" if counts["total"] == 1 else "s"
    return f"{counts['breaking']} breaking, {counts['nonBreaking']} non-breaking change{plural}"


def grouped(changes: Sequence[Change]) -> Iterator[tuple[str, list[Change]]]:
    """The changes per tool (``""`` is the server), in the order of ``change_order``."""
    ordered = sorted(changes, key=change_order)
    for tool in dict.fromkeys(change.tool for change in ordered):
        yield tool, [change for change in ordered if change.tool == tool]


def notes(surfaces: Iterable[Surface | None]) -> list[str]:
    return [note for surface in surfaces if surface is not None for note in surface.notes]
