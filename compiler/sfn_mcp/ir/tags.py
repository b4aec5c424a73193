"""The tags sfn-mcp reads on a state machine, as a team would write them.

``mcp:title``, ``mcp:description`` and ``mcp:tool-name`` set the tool's title, description and
name; the annotation hints are read under sfn-mcp's names (``mcp:read-only`` …) and under the
MCP spelling (``mcp:readOnlyHint`` or plain ``readOnlyHint`` …), with ``true``/``false`` in any
case. A value that is neither is a warning naming the machine and the tag, and the hint is
ignored. A tag that looks like one of these but is misspelt gets a "did you mean"; tags not meant
for sfn-mcp (``team``, ``aws:cloudformation:*`` …) stay silent. Configuration wins over every tag.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sfn_mcp.diagnostics import Diagnostics
from sfn_mcp.read.records import MachineSource

TITLE_TAG = "mcp:title"
DESCRIPTION_TAG = "mcp:description"
TOOL_NAME_TAG = "mcp:tool-name"
HINT_TAGS: Mapping[str, tuple[str, ...]] = {
    "read_only": ("mcp:read-only", "mcp:readOnlyHint", "readOnlyHint"),
    "destructive": ("mcp:destructive", "mcp:destructiveHint", "destructiveHint"),
    "idempotent": ("mcp:idempotent", "mcp:idempotentHint", "idempotentHint"),
    "open_world": ("mcp:open-world", "mcp:openWorldHint", "openWorldHint"),
}
KNOWN_TAGS = frozenset(
    {TITLE_TAG, DESCRIPTION_TAG, TOOL_NAME_TAG, *(t for tags in HINT_TAGS.values() for t in tags)}
)
TOOL_NAME = re.compile(r"^[a-z0-9_]{1,64}$")


@dataclass(frozen=True)
class Tagged:
    """What a machine's tags say about its tool (unset: the tag is absent or unusable)."""

    title: str | None = None
    description: str | None = None
    tool_name: str | None = None
    hints: Mapping[str, bool] = field(default_factory=dict)


def _looks_like_ours(key: str) -> bool:
    folded = key.casefold()
    return (
        folded.startswith("mcp:")
        or folded.endswith("hint")
        and folded.removesuffix("hint")
        in {
            "readonly",
            "destructive",
            "idempotent",
            "openworld",
        }
    )


def read_tags(
    machine: MachineSource, schema_tags: frozenset[str], diagnostics: Diagnostics
) -> Tagged:
    """The tool settings in ``machine``'s tags; ``schema_tags`` are the configured schema tag
    keys (read elsewhere, never flagged here)."""
    where = f"state machine {machine.name!r}"
    tags = machine.tags
    for key in sorted(tags):
        if key in KNOWN_TAGS or key in schema_tags or not _looks_like_ours(key):
            continue
        near = difflib.get_close_matches(key, sorted(KNOWN_TAGS), n=1, cutoff=0.6)
        folded = [k for k in KNOWN_TAGS if k.casefold() == key.casefold()]
        guess = next(iter(folded or near), None)
        diagnostics.warning(
            f"{where}: tag {key!r} is not one sfn-mcp reads"
            + (f"; did you mean {guess!r}?" if guess else ""),
            hint=f"sfn-mcp reads {', '.join(sorted(KNOWN_TAGS))}",
        )
    hints: dict[str, bool] = {}
    for hint, keys in HINT_TAGS.items():
        values = {}
        for key in keys:
            if key not in tags:
                continue
            raw = tags[key].strip().lower()
            if raw not in ("true", "false"):
                diagnostics.warning(
                    f"{where}: tag {key}={tags[key]!r} must be true or false; the hint is ignored",
                    hint=f"set {key} to true or false",
                )
                continue
            values[key] = raw == "true"
        if len(set(values.values())) > 1:
            listed = ", ".join(f"{k}={str(v).lower()}" for k, v in values.items())
            diagnostics.warning(
                f"{where}: tags {listed} disagree; the hint is ignored",
                hint="keep one of the tags",
            )
        elif values:
            hints[hint] = next(iter(values.values()))
    name = tags.get(TOOL_NAME_TAG, "").strip() or None
    if name is not None and not TOOL_NAME.match(name):
        diagnostics.warning(
            f"{where}: tag {TOOL_NAME_TAG}={name!r} is not a tool name (1 to 64 lowercase "
            "letters, digits and underscores); the name is derived from the machine's",
            hint=f"set {TOOL_NAME_TAG} to a name like 'place_order'",
        )
        name = None
    return Tagged(
        title=tags.get(TITLE_TAG, "").strip() or None,
        description=tags.get(DESCRIPTION_TAG, "").strip() or None,
        tool_name=name,
        hints=hints,
    )
