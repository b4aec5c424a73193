"""The JSON format, for machines: ``{"breaking", "summary", "changes"}`` (plus ``old``, ``new``
and ``notes`` when the surfaces are given)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sfn_mcp.review.render.summary import notes, summarize
from sfn_mcp.review.surface import Change, Surface, change_order


def render_json(
    changes: Sequence[Change], *, old: Surface | None = None, new: Surface | None = None
) -> str:
    """For machines: ``{"breaking", "summary", "changes"}`` (plus ``old``, ``new`` and ``notes``
    when the surfaces are given), changes in the same order as the other formats."""
    counts = summarize(changes)
    report: dict[str, Any] = {"breaking": counts["breaking"] > 0, "summary": counts}
    if old is not None and new is not None:
        report["old"], report["new"] = old.label, new.label
        report["notes"] = notes([old, new])
    report["changes"] = [change.as_dict() for change in sorted(changes, key=change_order)]
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
