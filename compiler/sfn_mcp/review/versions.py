"""Server-level rules on the package's version: that it changed, and whether it moved as much
as the surface changes require (semantic versioning of the tool surface)."""

from __future__ import annotations

import re

from sfn_mcp.review.rules import VERSION_BUMP_TOO_SMALL, VERSION_CHANGED
from sfn_mcp.review.surface import Change, Surface, finding

VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def required(changes: list[Change]) -> str | None:
    """ "major", "minor" or None: what these surface changes require of the version."""
    if any(change.breaking for change in changes):
        return "major"
    return "minor" if changes else None


def enough(old: str, new: str, part: str | None) -> bool:
    """Whether ``new`` moved from ``old`` at least as much as ``part`` requires."""
    o, n = VERSION.match(old), VERSION.match(new)
    if o is None or n is None:
        return True  # nothing to hold a version to
    before = tuple(int(g) for g in o.groups())
    after = tuple(int(g) for g in n.groups())
    if part == "major":
        return after[0] > before[0]
    if part == "minor":
        return after[:2] > before[:2]
    return after >= before


def version_changes(old: Surface, new: Surface, changes: list[Change]) -> list[Change]:
    if not (old.exists and new.exists) or old.version is None or new.version is None:
        return []
    out = []
    if old.version != new.version:
        out.append(
            finding(
                VERSION_CHANGED,
                tool="",
                path="version",
                message=f"version {old.version} -> {new.version}",
                old=old.version,
                new=new.version,
            )
        )
    part = required(changes)
    if not enough(old.version, new.version, part):
        out.append(
            finding(
                VERSION_BUMP_TOO_SMALL,
                tool="",
                path="version",
                message=f"version {old.version} -> {new.version}, but the changes are {part}: "
                f"regenerate (sfn-mcp sets it) rather than editing pyproject.toml",
                old=old.version,
                new=new.version,
            )
        )
    return out
