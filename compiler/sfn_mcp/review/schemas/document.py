"""One schema document (an inputSchema or an outputSchema) with its local ``$ref`` targets.

``resolve`` follows local ``$ref`` s (siblings of a ``$ref`` override its target; a definition
that is only itself resolves to ``{}``) and intersects ``allOf`` parts with their siblings;
``branches`` splits a schema into its alternatives: the members of an ``anyOf``/``oneOf``
(flattened), one schema per entry of a ``type`` list, or the schema itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from sfn_mcp.review.schemas.intersect import intersect
from sfn_mcp.review.schemas.keywords import UNION, annotations_of, as_schema, validation_of
from sfn_mcp.review.schemas.types import for_type
from sfn_mcp.review.schemas.unions import Branch, any_value
from sfn_mcp.schema_refs import resolve_ref

MAX_DEPTH: Final = 200  # nesting guard on top of the $ref cycle guard


class UnresolvedRef(LookupError):
    """A local ``$ref`` that names nothing in its document."""


class Document:
    """A schema document; ``where`` names it in errors (``tool x: old input schema``)."""

    def __init__(self, root: Any, where: str) -> None:
        self.root = as_schema(root)
        self.where = where

    def pointer(self, ref: str) -> Any:
        try:
            return resolve_ref(self.root, ref)
        except LookupError:
            raise UnresolvedRef(f"{self.where}: $ref {ref!r} does not resolve") from None

    def resolve(
        self, value: Any, seen: tuple[str, ...] = ()
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        """Follow local ``$ref`` s (siblings override the target) and merge ``allOf`` parts."""
        schema = as_schema(value)
        refs = seen
        while isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#"):
            ref = schema.pop("$ref")
            if ref in refs:  # a definition that is only itself: nothing to compare
                return {}, refs
            refs = (*refs, ref)
            schema = {**as_schema(self.pointer(ref)), **schema}
        parts = schema.get("allOf")
        if isinstance(parts, list) and parts:
            del schema["allOf"]
            resolved_parts = [schema]  # the siblings first: their annotations win
            for part in parts:
                resolved, refs = self.resolve(part, refs)
                resolved_parts.append(resolved)
            schema = intersect(resolved_parts)
        return schema, refs

    def branches(self, value: Any) -> tuple[dict[str, Any], list[Branch]]:
        """The alternatives of a schema and the annotations that belong to none of them: the
        members of an anyOf/oneOf (flattened) and its siblings, one schema per entry of a
        ``type`` list and the list's annotations, or the schema itself and nothing."""
        schema, refs = self.resolve(value)
        members = next((schema[k] for k in UNION if isinstance(schema.get(k), list)), None)
        if members is not None:
            found = [b for member in members for b in self._members(member, refs)]
            return annotations_of(schema), any_value(found)
        if isinstance(schema.get("type"), list) and len(schema["type"]) > 1:
            found = [Branch(for_type(validation_of(schema), t), refs) for t in schema["type"]]
            return annotations_of(schema), found
        return {}, [Branch(schema, refs)]

    def _members(self, value: Any, refs: tuple[str, ...]) -> Iterator[Branch]:
        schema, member_refs = self.resolve(value, refs)
        nested = next((schema[k] for k in UNION if isinstance(schema.get(k), list)), None)
        if nested is not None and len(member_refs) < MAX_DEPTH:
            for member in nested:
                yield from self._members(member, member_refs)
        elif isinstance(schema.get("type"), list) and len(schema["type"]) > 1:
            for kind in schema["type"]:
                yield Branch(for_type(schema, kind), member_refs)
        else:
            yield Branch(schema, member_refs)
