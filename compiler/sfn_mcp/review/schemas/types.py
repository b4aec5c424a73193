"""Type sets: the JSON types a schema admits, how two sets relate (``integer`` is inside
``number``), their meet, and one entry of a ``type`` list as a schema of its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from sfn_mcp.review.schemas.keywords import TYPE_KEYWORDS
from sfn_mcp.review.schemas.values import json_type

# How the values of two type sets relate: the new admits fewer (narrow), more (widen), some of
# each (both), none of the old (disjoint), or the same.
Relation = Literal["same", "narrow", "widen", "both", "disjoint"]


def types(schema: Mapping[str, Any]) -> frozenset[str] | None:
    """The JSON types a schema admits (``None``: any), from ``type``, else ``const``/``enum``."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(str(t) for t in declared)
    if "const" in schema:
        return frozenset({json_type(schema["const"])})
    if isinstance(schema.get("enum"), list):
        return frozenset(json_type(v) for v in schema["enum"])
    return None


def covers(kinds: frozenset[str] | None, kind: str) -> bool:
    """Whether the type set admits every value of ``kind``."""
    return kinds is None or kind in kinds or (kind == "integer" and "number" in kinds)


def type_relation(old: frozenset[str] | None, new: frozenset[str] | None) -> Relation:
    if old == new:
        return "same"
    if old is None:
        return "narrow"
    if new is None:
        return "widen"
    new_in_old = all(covers(old, t) for t in new)
    old_in_new = all(covers(new, t) for t in old)
    if new_in_old and old_in_new:
        return "same"
    if new_in_old:
        return "narrow"
    if old_in_new:
        return "widen"
    overlap = any(covers(old, t) for t in new) or any(covers(new, t) for t in old)
    return "both" if overlap else "disjoint"


def type_set(declared: Any) -> frozenset[str] | None:
    """A ``type`` keyword's value as a set (``None`` when it is not a name or a list of names)."""
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list) and all(isinstance(t, str) for t in declared):
        return frozenset(declared)
    return None


def meet(kinds: list[frozenset[str]]) -> str | list[str]:
    """The types every part admits (integer is the meet of number and integer)."""
    common = kinds[0]
    for other in kinds[1:]:
        common = frozenset(
            {t for t in common if covers(other, t)} | {t for t in other if covers(common, t)}
        )
    return next(iter(common)) if len(common) == 1 else sorted(common)


def for_type(schema: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """One entry of a ``type`` list as a schema of its own, without the other types' keywords."""
    own = TYPE_KEYWORDS.get("number" if kind == "integer" else kind, frozenset())
    foreign = frozenset().union(*TYPE_KEYWORDS.values()) - own
    return {k: v for k, v in schema.items() if k not in foreign} | {"type": kind}
