"""Client schema profiles: the form of a published ``inputSchema`` for the clients that read it.

``exact`` publishes the source schema as normalised (``$defs`` and ``$ref`` as the source has
them). ``portable``, the default, inlines every definition that is not recursive where it is
referenced, because real clients render a ``$ref`` as ``any`` or ``unknown`` (one showed an array
of objects as ``string[]``) and some model APIs refuse ``$ref`` outright; a recursive definition
cannot be inlined and stays a ``$ref``. Both forms accept exactly the same arguments: a
``$ref`` with sibling keywords becomes an ``allOf`` of the definition and those keywords, which is
what the reference means in JSON Schema 2020-12.
"""

from __future__ import annotations

import copy
from typing import Any, Final, Literal

Profile = Literal["portable", "exact"]
PROFILES: Final = ("portable", "exact")
DEFS_PREFIX: Final = "#/$defs/"


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _target(ref: Any) -> str | None:
    """The definition a ``$ref`` names whole (``#/$defs/Name``), or None."""
    if not isinstance(ref, str) or not ref.startswith(DEFS_PREFIX):
        return None
    rest = ref[len(DEFS_PREFIX) :]
    return None if "/" in rest else _unescape(rest)


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "$ref" and isinstance(value, str) and value.startswith(DEFS_PREFIX):
                    found.add(_unescape(value[len(DEFS_PREFIX) :].split("/", 1)[0]))
                elif isinstance(value, dict | list):
                    pending.append(value)
        elif isinstance(item, list):
            pending.extend(item)
    return found


def _recursive(defs: dict[str, Any]) -> set[str]:
    """Definitions that reach themselves through references (and those they reach)."""
    edges = {name: _refs(body) & set(defs) for name, body in defs.items()}
    cyclic: set[str] = set()
    for start in defs:
        seen: set[str] = set()
        stack = list(edges[start])
        while stack:
            name = stack.pop()
            if name == start:
                cyclic.add(start)
                break
            if name not in seen:
                seen.add(name)
                stack.extend(edges.get(name, ()))
    return cyclic


def inline_definitions(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with each non-recursive ``$defs`` entry inlined where a ``$ref`` names it
    whole; ``$defs`` keeps what is still referenced (recursive definitions, pointers into a
    definition), and is dropped when nothing is."""
    defs = document.get("$defs")
    if not isinstance(defs, dict) or not defs:
        return document
    recursive = _recursive(defs)

    def expand(node: Any, trail: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [expand(item, trail) for item in node]
        if not isinstance(node, dict):
            return node
        name = _target(node.get("$ref"))
        if name is not None and name in defs and name not in recursive and name not in trail:
            body = expand(copy.deepcopy(defs[name]), (*trail, name))
            siblings = {k: expand(v, trail) for k, v in node.items() if k != "$ref"}
            if not siblings:
                return body
            if isinstance(body, dict) and not set(body) & set(siblings):
                return {**body, **siblings}
            return {"allOf": [body], **siblings}
        return {
            key: (value if key == "$defs" else expand(value, trail)) for key, value in node.items()
        }

    body = {key: value for key, value in document.items() if key != "$defs"}
    result: dict[str, Any] = expand(body, ())
    kept = {name: expand(defs[name], (name,)) for name in sorted(defs) if name in recursive}
    still = _refs(result) | _refs(kept)
    kept |= {name: defs[name] for name in sorted(still - set(kept)) if name in defs}
    if kept:
        # definitions others still point into are kept whole, and their references stay valid
        kept = {name: kept[name] for name in sorted(kept)}
        result["$defs"] = kept
    return result


def profiled(document: dict[str, Any], profile: Profile) -> dict[str, Any]:
    return inline_definitions(document) if profile == "portable" else document
