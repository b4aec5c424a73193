"""The shapes of sample execution inputs (genson), never their values.

genson turns the samples into a JSON Schema; what is kept of it is only the shape: the JSON
types seen at each path, the properties of objects and the items of arrays. Not ``required``
(a field every sample happens to carry need not be required by the workflow), no values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from genson import SchemaBuilder  # type: ignore[import-untyped]

JSON_TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")


@dataclass
class SampleShape:
    kinds: set[str] = field(default_factory=set)
    properties: dict[str, SampleShape] = field(default_factory=dict)
    items: SampleShape | None = None

    @property
    def kind(self) -> str | None:
        """The one non-null type the samples agree on (integers and numbers are numbers)."""
        kinds = self.kinds - {"null"}
        if kinds == {"integer", "number"}:
            kinds = {"number"}
        return next(iter(kinds)) if len(kinds) == 1 else None

    @property
    def nullable(self) -> bool:
        return "null" in self.kinds


def sample_shape(samples: Sequence[object]) -> SampleShape | None:
    if not samples:
        return None
    builder = SchemaBuilder(schema_uri=None)
    for sample in samples:
        builder.add_object(sample)
    return _shape(builder.to_schema())


def _shape(node: Any) -> SampleShape:
    shape = SampleShape()
    _add(shape, node)
    return shape


def _add(shape: SampleShape, node: Any) -> None:
    if not isinstance(node, dict):
        return
    for alternative in node.get("anyOf", []):
        _add(shape, alternative)
    kinds = node.get("type")
    for kind in kinds if isinstance(kinds, list) else [kinds]:
        if kind in JSON_TYPES:
            shape.kinds.add(kind)
    for name, inner in (node.get("properties") or {}).items():
        _add(shape.properties.setdefault(str(name), SampleShape()), inner)
    items = node.get("items")
    if isinstance(items, dict):
        if shape.items is None:
            shape.items = SampleShape()
        _add(shape.items, items)
