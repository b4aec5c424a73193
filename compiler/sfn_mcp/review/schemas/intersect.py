"""``allOf`` as one schema: the intersection of resolved parts, as far as one schema can say it.

Annotations come from the first part that has them. ``type`` s, ``enum`` s and ``const`` s
intersect, numeric bounds and lengths take the tightest, ``multipleOf`` the least common multiple,
``required`` the union, ``uniqueItems`` any; ``properties`` merge by name (a property of several
parts is the ``allOf`` of its schemas), as do ``items`` and ``additionalProperties``, and a part
that closes its object (``additionalProperties``) constrains the properties only the other parts
name. What one schema cannot say (two patterns, two ``not`` s...) stays in an ``allOf`` of the
rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from sfn_mcp.review.schemas.bounds import bound, lcm
from sfn_mcp.review.schemas.keywords import (
    ANNOTATIONS,
    COUNT_MAXIMA,
    COUNT_MINIMA,
    IGNORED,
    listed,
    mapping,
)
from sfn_mcp.review.schemas.types import meet, type_set
from sfn_mcp.review.schemas.values import contains, distinct, number, plain


def intersect(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``allOf`` of resolved schemas as one schema that accepts what all of them accept."""
    present: dict[str, list[Any]] = {}
    for part in parts:
        for key, value in part.items():
            present.setdefault(key, []).append(value)
    merged: dict[str, Any] = {}
    rest: list[Any] = [r for part in parts for r in listed(part.get("allOf"))]
    done = {"allOf"}

    def keep(key: str, values: list[Any]) -> None:
        """A keyword whose values cannot be combined: one stays, the others go to the rest."""
        kept, *others = distinct(values)
        merged[key] = kept
        rest.extend({key: value} for value in others)

    def numbers(key: str) -> list[Fraction] | None:
        found = [number(value) for value in present.get(key, [])]
        if len(found) < 2 or any(value is None for value in found):
            return None
        return [value for value in found if value is not None]

    for key, values in present.items():
        if key in ANNOTATIONS or key in IGNORED:
            merged[key] = values[0]
            done.add(key)
    kinds = [type_set(value) for value in present.get("type", [])]
    if len(kinds) > 1 and all(kind is not None for kind in kinds):
        merged["type"] = meet([kind for kind in kinds if kind is not None])
        done.add("type")
    enums = [[p["const"]] for p in parts if "const" in p]
    enums += [p["enum"] for p in parts if isinstance(p.get("enum"), list)]
    if len(enums) > 1:
        allowed = [v for v in enums[0] if all(contains(other, v) for other in enums[1:])]
        if "const" in present and len(allowed) == 1:
            merged["const"] = allowed[0]
        else:
            merged["enum"] = allowed
        done.add("const")
        if all(isinstance(v, list) for v in present.get("enum", [])):
            done.add("enum")
    for key in (*COUNT_MAXIMA, *COUNT_MINIMA):
        found = numbers(key)
        if found is not None:
            tightest = min(found) if key in COUNT_MAXIMA else max(found)
            merged[key] = plain(tightest)
            done.add(key)
    for upper in (True, False):
        bounds = [b for b in (bound(part, upper) for part in parts) if b is not None]
        if len(bounds) > 1:
            sign = -1 if upper else 1
            _, value, exclusive = max(bounds, key=lambda b: (sign * b[1], b[2]))
            inclusive, strict = (
                ("maximum", "exclusiveMaximum") if upper else ("minimum", "exclusiveMinimum")
            )
            merged[strict if exclusive else inclusive] = plain(value)
            done |= {inclusive, strict}
    steps = numbers("multipleOf")
    if steps is not None and all(step > 0 for step in steps):
        merged["multipleOf"] = plain(lcm(steps))
        done.add("multipleOf")
    if True in present.get("uniqueItems", []):
        merged["uniqueItems"] = True
        done.add("uniqueItems")
    if "required" in present and all(isinstance(v, list) for v in present["required"]):
        merged["required"] = list(dict.fromkeys(n for names in present["required"] for n in names))
        done.add("required")
    if "items" in present and all(isinstance(v, dict | bool) for v in present["items"]):
        merged["items"] = all_of(present["items"])
        done.add("items")
    if all(isinstance(v, dict) for v in present.get("properties", [])) and all(
        isinstance(v, dict | bool) for v in present.get("additionalProperties", [])
    ):
        _objects(parts, merged)
        done |= {"properties", "additionalProperties"}
    for key, values in present.items():
        if key not in done:
            keep(key, values)
    if rest:
        merged["allOf"] = rest
    return merged


def all_of(schemas: list[Any]) -> Any:
    """One schema for several: itself if they are all the same, else their ``allOf``."""
    unique = distinct(schemas)
    meaningful = [s for s in unique if s is not True and s != {}]
    if len(unique) == 1 or not meaningful:
        return unique[0]
    return meaningful[0] if len(meaningful) == 1 else {"allOf": meaningful}


def _objects(parts: Sequence[Mapping[str, Any]], merged: dict[str, Any]) -> None:
    """``properties`` and ``additionalProperties`` of an ``allOf``: a property is checked by
    every part, with the part's own schema for it or, where the part does not name it, the
    part's ``additionalProperties`` (``patternProperties`` are not considered)."""
    names: dict[str, list[Any]] = {}
    for part in parts:
        for name, schema in mapping(part.get("properties")).items():
            names.setdefault(name, []).append(schema)
    for part in parts:
        extra = part.get("additionalProperties", True)
        if extra is True or extra == {}:
            continue
        own = mapping(part.get("properties"))
        for name, schemas in names.items():
            if name not in own:
                schemas.append(extra)
    if names:
        merged["properties"] = {name: all_of(schemas) for name, schemas in names.items()}
    extras = [p["additionalProperties"] for p in parts if "additionalProperties" in p]
    if extras:
        merged["additionalProperties"] = False if False in extras else all_of(extras)
