"""``compare``: every difference between two tool surfaces, classified by the rules table and
in the order every output lists them (by tool, breaking first)."""

from __future__ import annotations

from sfn_mcp.review.permissions import permission_changes
from sfn_mcp.review.surface import Change, Surface, change_order
from sfn_mcp.review.tools import (
    renames,
    server_changes,
    tool_added,
    tool_changes,
    tool_removed,
    tool_renamed,
)
from sfn_mcp.review.versions import version_changes


def compare(old: Surface, new: Surface) -> list[Change]:
    """Every difference between two surfaces, classified, sorted by tool, then breaking first.

    A tool renamed (the same state machine ARN under exactly one new name) is one change, and
    its two contracts are then compared under the new name."""
    out = server_changes(old, new) + permission_changes(old, new)
    removed = sorted(set(old.tools) - set(new.tools))
    added = sorted(set(new.tools) - set(old.tools))
    renamed = renames(old, new, removed, added)
    out += [tool_removed(name) for name in removed if name not in renamed]
    out += [tool_added(name, new.tools[name]) for name in added if name not in renamed.values()]
    for before, after in renamed.items():
        out.append(tool_renamed(before, after, new.tools[after]))
        out += tool_changes(after, old.tools[before], new.tools[after])
    for name in sorted(set(old.tools) & set(new.tools)):
        out += tool_changes(name, old.tools[name], new.tools[name])
    out += version_changes(old, new, out)
    return sorted(out, key=change_order)
