"""Reading an ASL document that may be malformed: every accessor gives a usable shape."""

from __future__ import annotations

from typing import Any


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def processor(state: dict[str, Any]) -> dict[str, Any]:
    """A Map's iteration: ``ItemProcessor``, or the older ``Iterator``."""
    return as_dict(state.get("ItemProcessor") or state.get("Iterator"))


def states_of(scope: object) -> tuple[dict[str, Any], str | None]:
    """A scope's ``States`` and its ``StartAt`` when that names one of them."""
    states = as_dict(as_dict(scope).get("States"))
    start = as_dict(scope).get("StartAt")
    return states, (start if isinstance(start, str) and start in states else None)
