"""Server-level rules on the IAM permissions a package records (``iam-policy.json``, as action →
resources in ``surface.json``): what its role must newly be granted, and what it may drop.

A surface from an sfn-mcp that did not record permissions is not compared: no finding, rather than
every permission reported as added.
"""

from __future__ import annotations

from sfn_mcp.review.rules import PERMISSION_ADDED, PERMISSION_REMOVED
from sfn_mcp.review.surface import ABSENT, Change, Surface, finding


def permission_changes(old: Surface, new: Surface) -> list[Change]:
    if not (old.exists and new.exists) or old.permissions is None or new.permissions is None:
        return []
    out = []
    for action in sorted({*old.permissions, *new.permissions}):
        before = set(old.permissions.get(action, ()))
        after = set(new.permissions.get(action, ()))
        if after - before:
            granted = sorted(after - before)
            out.append(
                finding(
                    PERMISSION_ADDED,
                    tool="",
                    path=f"permissions.{action}",
                    message=f"{action} newly granted on {', '.join(granted)}: grant it to the "
                    "server's role before deploying",
                    old=sorted(before) if before else ABSENT,
                    new=sorted(after),
                )
            )
        if before - after:
            dropped = sorted(before - after)
            out.append(
                finding(
                    PERMISSION_REMOVED,
                    tool="",
                    path=f"permissions.{action}",
                    message=f"{action} no longer needed on {', '.join(dropped)}: the server's "
                    "role may drop it",
                    old=sorted(before),
                    new=sorted(after) if after else ABSENT,
                )
            )
    return out
