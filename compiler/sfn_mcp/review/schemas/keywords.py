"""Keyword groups of JSON Schema and the views of a schema they give: what only annotates, what
is ignored, which keywords constrain which type, and the enum/const and required lists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

ANNOTATIONS: Final = frozenset(
    {"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"}
    | {"$comment", "discriminator", "contentMediaType", "contentEncoding"}
)
IGNORED: Final = frozenset({"$defs", "definitions", "$schema", "$id", "$anchor"})
UNION: Final = ("anyOf", "oneOf")
COUNT_MAXIMA: Final = ("maxLength", "maxItems", "maxProperties")
COUNT_MINIMA: Final = ("minLength", "minItems", "minProperties")
EVERY_TYPE: Final = frozenset({"object", "array", "string", "number", "boolean"})

# Keywords that only constrain values of one type; the others apply to every value.
TYPE_KEYWORDS: Final = {
    "string": frozenset({"minLength", "maxLength", "pattern", "format"}),
    "number": frozenset(
        {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    ),
    "array": frozenset({"items", "prefixItems", "minItems", "maxItems", "uniqueItems"}),
    "object": frozenset(
        {"properties", "required", "additionalProperties", "minProperties", "maxProperties"}
        | {"patternProperties", "propertyNames"}
    ),
}


def as_schema(value: Any) -> dict[str, Any]:
    """A schema as a (copied) dict: ``true``/missing is ``{}``, ``false`` is ``{"not": {}}``."""
    if value is True or value is None:
        return {}
    if value is False:
        return {"not": {}}
    return dict(value) if isinstance(value, dict) else {}


def validation_of(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The keywords that decide which values are valid."""
    return {k: v for k, v in schema.items() if k not in ANNOTATIONS and k not in IGNORED}


def annotations_of(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The keywords that only describe (title, description, default...)."""
    return {k: v for k, v in schema.items() if k in ANNOTATIONS}


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def required(schema: Mapping[str, Any]) -> set[str]:
    """The names in ``required`` (nothing when it is not a list)."""
    names = schema.get("required")
    return {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()


def allowed(schema: Mapping[str, Any]) -> list[Any] | None:
    """The values a ``const`` or an ``enum`` allows; ``None`` when neither restricts them."""
    if "const" in schema:
        return [schema["const"]]
    values = schema.get("enum")
    return list(values) if isinstance(values, list) else None
