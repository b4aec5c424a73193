"""Numeric bounds, lengths and steps compared by value: which of two limits admits more values.

An ``Effect`` says what a change does to the set of valid values: ``narrow`` (fewer), ``widen``
(more), ``both`` (some of each) or ``none``. Anything that is not a JSON number (a missing
keyword included) is no limit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, Literal

from sfn_mcp.review.schemas.values import number

Effect = Literal["narrow", "widen", "both", "none"]


def bound(schema: Mapping[str, Any], upper: bool) -> tuple[str, Fraction, bool] | None:
    """The numeric bound as (keyword, value, exclusive); the tighter of the two keywords."""
    plain, strict = ("maximum", "exclusiveMaximum") if upper else ("minimum", "exclusiveMinimum")
    found: list[tuple[str, Fraction, bool]] = []
    value = number(schema.get(plain))
    if value is not None:
        exclusive = schema.get(strict) is True  # draft 4 / OpenAPI 3.0: a boolean modifier
        found.append((strict if exclusive else plain, value, exclusive))
    value = number(schema.get(strict))
    if value is not None:
        found.append((strict, value, True))
    if not found:
        return None
    sign = -1 if upper else 1
    return max(found, key=lambda b: (sign * b[1], b[2]))


def compare_limit(before: Any, after: Any, *, upper: bool) -> Effect:
    """A maximum (``upper``) or minimum changed from ``before`` to ``after``."""
    old, new = number(before), number(after)
    if old == new:
        return "none"
    if old is None:
        return "narrow"
    if new is None:
        return "widen"
    return "narrow" if (new < old) == upper else "widen"


def compare_multiple(before: Any, after: Any) -> Effect:
    """A ``multipleOf`` changed from ``before`` to ``after``."""
    old, new = number(before), number(after)
    if old == new:
        return "none"
    if old is None:
        return "narrow"
    if new is None:
        return "widen"
    if old and (new / old).denominator == 1:
        return "narrow"  # every multiple of the new step is a multiple of the old one
    if new and (old / new).denominator == 1:
        return "widen"
    return "both"


def lcm(steps: list[Fraction]) -> Fraction:
    """The least common multiple of positive rationals: the step every part's step divides."""
    result = steps[0]
    for step in steps[1:]:
        result = Fraction(
            math.lcm(result.numerator, step.numerator),
            math.gcd(result.denominator, step.denominator),
        )
    return result
