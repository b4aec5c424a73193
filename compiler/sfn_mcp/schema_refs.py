"""Local references (``#/$defs/Item``) in schema documents, resolved with ``referencing`` (the
library ``jsonschema`` uses), for the models stage and the surface diff alike."""

from __future__ import annotations

from typing import Any

from referencing import Registry, Resource
from referencing.exceptions import Unresolvable


def resolve_ref(document: Any, ref: str) -> Any:
    """The node a local reference names in ``document``; LookupError when there is none."""
    if not ref.startswith("#"):
        raise LookupError(ref)
    resource = Resource.opaque(document)  # any JSON document: OpenAPI as well as JSON Schema
    resolver = Registry().with_resource("", resource).resolver(base_uri="")
    try:
        return resolver.lookup(ref).contents
    except (Unresolvable, LookupError, TypeError, ValueError, AttributeError) as exc:
        raise LookupError(ref) from exc


def resolves(document: Any, ref: str) -> bool:
    try:
        resolve_ref(document, ref)
    except LookupError:
        return False
    return True
