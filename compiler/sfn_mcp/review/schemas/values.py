"""JSON values as JSON Schema compares them: numbers by value (``1`` is ``1.0``, never ``true``),
one canonical spelling per value, exact rationals for bounds and steps."""

from __future__ import annotations

import json
from collections.abc import Iterable
from fractions import Fraction
from typing import Any


def json_type(value: Any) -> str:
    """The JSON Schema type of a value (an integral float is an ``integer``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def by_value(value: Any) -> Any:
    """A JSON value with its numbers compared by value (1 and 1.0 alike; true stays a boolean)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: by_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [by_value(item) for item in value]
    return value


def canonical(value: Any) -> str:
    """One spelling per JSON value: keys sorted, numbers by value."""
    return json.dumps(by_value(value), sort_keys=True)


def same(before: Any, after: Any) -> bool:
    """JSON equality: unlike ``==``, ``true`` is not ``1`` (and ``[true]`` not ``[1]``)."""
    return canonical(before) == canonical(after)


def distinct(values: Iterable[Any]) -> list[Any]:
    """The values without repeats (JSON numbers by value), in a stable, order-free sequence."""
    unique = {canonical(value): value for value in values}
    return [unique[key] for key in sorted(unique)]


def contains(values: list[Any], value: Any) -> bool:
    """Whether ``value`` is one of ``values`` (JSON equality)."""
    key = canonical(value)
    return any(canonical(item) == key for item in values)


def number(value: Any) -> Fraction | None:
    """A JSON number as an exact rational (``0.1`` is 1/10); ``None`` for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return Fraction(str(value))
    except ValueError:  # inf, nan
        return None


def plain(value: Fraction) -> int | float:
    """A rational back as a JSON number."""
    return int(value) if value.denominator == 1 else float(value)


def fmt(value: Any, limit: int = 60) -> str:
    """A JSON value for a message: compact JSON, cut at ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."
